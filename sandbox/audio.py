"""Real audio files: speech from espeak-ng when it is installed, else a tone pattern.

Everything is produced and written in chunks of about a second, so a forced duration of an
hour (a ~160 MB wav) never sits in memory. Files are written under a `.part` name and renamed
when complete, so a half-written file is never served.
"""

from __future__ import annotations

import array
import logging
import math
import os
import shutil
import subprocess
import sys
import wave
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal

import lameenc

from sandbox.errors import AudioRenderError
from sandbox.models import AudioFormat

log = logging.getLogger(__name__)

SAMPLE_RATE = 22050
SAMPLE_WIDTH = 2
MP3_BITRATE_KBPS = 64
CHARACTERS_PER_SECOND = 14.0
MIN_SPEECH_SECONDS = 1.0
BLOCK_SECONDS = 0.1
BLOCKS_PER_CHUNK = 10
ESPEAK_TIMEOUT_SECONDS = 60

SpeechEngine = Literal["auto", "espeak", "tone"]


@dataclass(frozen=True)
class Speech:
    """What to say and how; `duration` forces the length (then the tone engine is used)."""

    script: str
    language: str = "en"
    speed: float = 1.0
    pitch_semitones: float = 0.0
    duration: float | None = None


@dataclass(frozen=True)
class RenderedAudio:
    path: Path
    duration_sec: float
    size_bytes: int
    engine: Literal["espeak", "tone"]


@dataclass(frozen=True)
class Pcm:
    """Mono 16-bit little-endian PCM, as a stream of chunks."""

    sample_rate: int
    chunks: Iterable[bytes]
    engine: Literal["espeak", "tone"]


def speech_seconds(script: str, speed: float) -> float:
    """How long the tone engine speaks `script`: about 14 characters a second at speed 1."""
    return max(MIN_SPEECH_SECONDS, len(script.strip()) / CHARACTERS_PER_SECOND / speed)


@lru_cache(maxsize=32)
def _tone_blocks(pitch_semitones: float) -> tuple[bytes, ...]:
    """Twelve short notes of a scale, with soft edges, and one block of silence."""
    samples = round(SAMPLE_RATE * BLOCK_SECONDS)
    edge = samples // 8
    blocks = []
    for step in range(12):
        frequency = 160.0 * 2 ** ((step + pitch_semitones) / 12)
        block = array.array("h", bytes(samples * SAMPLE_WIDTH))
        for i in range(samples):
            envelope = min(1.0, i / edge, (samples - 1 - i) / edge)
            block[i] = round(9000 * envelope * math.sin(2 * math.pi * frequency * i / SAMPLE_RATE))
        if sys.byteorder == "big":
            block.byteswap()
        blocks.append(block.tobytes())
    blocks.append(bytes(samples * SAMPLE_WIDTH))
    return tuple(blocks)


def tone_pcm(speech: Speech) -> Pcm:
    """A tone per letter and a pause per space or mark, repeated to fill the duration."""
    seconds = (
        speech.duration
        if speech.duration is not None
        else (speech_seconds(speech.script, speech.speed))
    )
    return Pcm(SAMPLE_RATE, _tone_chunks(speech, round(seconds * SAMPLE_RATE)), "tone")


def _tone_chunks(speech: Speech, total_frames: int) -> Iterator[bytes]:
    blocks = _tone_blocks(round(speech.pitch_semitones, 2))
    silence = blocks[-1]
    pattern = [blocks[ord(char) % 12] if char.isalnum() else silence for char in speech.script] or [
        silence
    ]
    remaining = total_frames * SAMPLE_WIDTH
    index = 0
    while remaining > 0:
        parts = []
        for _ in range(BLOCKS_PER_CHUNK):
            parts.append(pattern[index % len(pattern)])
            index += 1
        chunk = b"".join(parts)[:remaining]
        remaining -= len(chunk)
        yield chunk


def espeak_available() -> bool:
    return shutil.which("espeak-ng") is not None


def espeak_pcm(speech: Speech, scratch: Path) -> Pcm:
    """Speak `speech` with espeak-ng into `scratch` (a wav) and stream its frames."""
    executable = shutil.which("espeak-ng")
    if executable is None:
        raise AudioRenderError("espeak-ng is not installed")
    words_per_minute = round(min(450, max(80, 175 * speech.speed)))
    pitch = round(min(99, max(0, 50 + 4 * speech.pitch_semitones)))
    command = [executable, "-v", speech.language, "-s", str(words_per_minute)]
    command += ["-p", str(pitch), "-w", str(scratch), "--stdin"]
    try:
        subprocess.run(
            command,
            input=speech.script.encode(),
            capture_output=True,
            check=True,
            timeout=ESPEAK_TIMEOUT_SECONDS,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        raise AudioRenderError(f"espeak-ng failed: {exc}") from exc
    try:
        with wave.open(str(scratch), "rb") as source:
            mono16 = source.getnchannels() == 1 and source.getsampwidth() == SAMPLE_WIDTH
            rate = source.getframerate()
    except (OSError, wave.Error) as exc:
        raise AudioRenderError(f"espeak-ng produced no readable wav: {exc}") from exc
    if not mono16:
        raise AudioRenderError("espeak-ng produced audio that is not mono 16-bit")
    return Pcm(rate, _wav_frames(scratch), "espeak")


def _wav_frames(path: Path) -> Iterator[bytes]:
    with wave.open(str(path), "rb") as source:
        frames_per_chunk = source.getframerate()
        while chunk := source.readframes(frames_per_chunk):
            yield chunk


def write_wav(path: Path, pcm: Pcm) -> int:
    """Write `pcm` as a wav file; return the number of frames."""
    frames = 0
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(SAMPLE_WIDTH)
        out.setframerate(pcm.sample_rate)
        for chunk in pcm.chunks:
            out.writeframesraw(chunk)
            frames += len(chunk) // SAMPLE_WIDTH
    return frames


def write_mp3(path: Path, pcm: Pcm) -> int:
    """Encode `pcm` as a constant-bitrate mp3 with lameenc; return the number of frames."""
    encoder = lameenc.Encoder()
    encoder.set_bit_rate(MP3_BITRATE_KBPS)
    encoder.set_in_sample_rate(pcm.sample_rate)
    encoder.set_channels(1)
    encoder.set_quality(7)
    frames = 0
    with path.open("wb") as out:
        for chunk in pcm.chunks:
            out.write(encoder.encode(chunk))
            frames += len(chunk) // SAMPLE_WIDTH
        out.write(encoder.flush())
    return frames


def speech_pcm(speech: Speech, engine: SpeechEngine, scratch: Path) -> Pcm:
    """The PCM for `speech`: espeak-ng when asked for or (on `auto`) installed and working."""
    if speech.duration is not None or engine == "tone":
        return tone_pcm(speech)
    if engine == "espeak":
        return espeak_pcm(speech, scratch)
    if espeak_available():
        try:
            return espeak_pcm(speech, scratch)
        except AudioRenderError as exc:
            log.warning("espeak-ng failed, falling back to tones: %s", exc)
    return tone_pcm(speech)


def render(path: Path, fmt: AudioFormat, speech: Speech, engine: SpeechEngine) -> RenderedAudio:
    """Produce the audio file at `path`; blocking, so call it from a worker thread."""
    partial = path.with_name(path.name + ".part")
    scratch = path.with_name(path.name + ".espeak.wav")
    try:
        pcm = speech_pcm(speech, engine, scratch)
        frames = (write_wav if fmt == "wav" else write_mp3)(partial, pcm)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
        scratch.unlink(missing_ok=True)
    return RenderedAudio(
        path=path,
        duration_sec=round(frames / pcm.sample_rate, 3),
        size_bytes=path.stat().st_size,
        engine=pcm.engine,
    )
