"""Checking that a downloaded file is the audio it claims to be, and how long it plays.

Duration tolerance. The upstream's `durationSec` may be a whole number, rounded or
truncated, so it can be up to a second off; an mp3 also gains encoder delay and padding
(tens of milliseconds) and, without a Xing header, its length is estimated from the
bitrate. So by default a duration agrees when it is within max(1.0 s, 2 % of the expected
duration): a second for short clips, proportionally more for long ones.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from mutagen import MutagenError
from mutagen.mp3 import MP3
from mutagen.wave import WAVE

from processors.errors import AudioInvalid, UnknownAudioFormat

MAGIC_LENGTH = 12
MIN_TOLERANCE_SEC = 1.0
RELATIVE_TOLERANCE = 0.02

# mutagen's constructors are untyped; this table gives them the one signature used here.
_READERS: dict[str, Callable[[Path], Any]] = {"wav": WAVE, "mp3": MP3}
_RIFF_HEADER_LENGTH = 12
_CHUNK_HEADER = struct.Struct("<4sI")


@dataclass(frozen=True)
class AudioFacts:
    """What a file turned out to be: its format, how long it plays, and its size in bytes."""

    format: str
    duration_sec: float
    size: int


def sniff_format(header: bytes) -> str | None:
    """ "wav" or "mp3" if the file's first bytes look like one, else None."""
    if header[:4] == b"RIFF" and header[8:12] == b"WAVE":
        return "wav"
    if header[:3] == b"ID3" or _is_mpeg_frame_header(header):
        return "mp3"
    return None


def duration_tolerance(expected_sec: float) -> float:
    """The default tolerance: max(1.0 s, 2 % of the expected duration)."""
    return max(MIN_TOLERANCE_SEC, RELATIVE_TOLERANCE * expected_sec)


def duration_agrees(actual_sec: float, expected_sec: float, tolerance_sec: float | None) -> bool:
    """Whether `actual_sec` is within the tolerance (None: the default) of `expected_sec`."""
    tolerance = duration_tolerance(expected_sec) if tolerance_sec is None else tolerance_sec
    return abs(actual_sec - expected_sec) <= tolerance


def inspect_audio(path: Path, expected_format: str) -> AudioFacts:
    """The facts of the `expected_format` ("mp3" or "wav") file at `path`, or `AudioInvalid`."""
    if expected_format not in _READERS:
        raise UnknownAudioFormat(f"unsupported audio format {expected_format!r}")
    with path.open("rb") as file:
        found = sniff_format(file.read(MAGIC_LENGTH))
        if found != expected_format:
            raise AudioInvalid(
                f"expected {expected_format}, but the file starts like {found or 'neither'}"
            )
        size = _file_size(file)
        if expected_format == "wav":
            _check_wav_data_complete(file, size)
    duration = _read_duration(path, expected_format)
    if not duration > 0:
        raise AudioInvalid(f"the {expected_format} holds no audio")
    return AudioFacts(format=expected_format, duration_sec=duration, size=size)


def verify_audio(
    path: Path,
    expected_format: str,
    expected_duration_sec: float | None,
    *,
    tolerance_sec: float | None = None,
) -> AudioFacts:
    """`inspect_audio`, and `AudioInvalid` unless the duration agrees with the expected one.

    `tolerance_sec` None means the default rule (see the module docstring).
    """
    facts = inspect_audio(path, expected_format)
    if expected_duration_sec is not None and not duration_agrees(
        facts.duration_sec, expected_duration_sec, tolerance_sec
    ):
        raise AudioInvalid(f"plays {facts.duration_sec:.2f}s, expected {expected_duration_sec:g}s")
    return facts


def _is_mpeg_frame_header(header: bytes) -> bool:
    # 11 sync bits, then a version and a layer that are not the reserved values.
    if len(header) < 2 or header[0] != 0xFF or header[1] & 0xE0 != 0xE0:
        return False
    version = (header[1] >> 3) & 0b11
    layer = (header[1] >> 1) & 0b11
    return version != 0b01 and layer != 0b00


def _file_size(file: BinaryIO) -> int:
    return file.seek(0, 2)


def _check_wav_data_complete(file: BinaryIO, size: int) -> None:
    """Mutagen reads a wav's length from its header, so a cut-off file must be caught here."""
    offset = _RIFF_HEADER_LENGTH
    while True:
        file.seek(offset)
        header = file.read(_CHUNK_HEADER.size)
        if len(header) < _CHUNK_HEADER.size:
            raise AudioInvalid("the wav has no data chunk")
        chunk_id, chunk_size = _CHUNK_HEADER.unpack(header)
        offset += _CHUNK_HEADER.size
        if chunk_id == b"data":
            if offset + chunk_size > size:
                raise AudioInvalid(
                    f"the wav is truncated: its data chunk declares {chunk_size} bytes, "
                    f"the file holds {size - offset}"
                )
            return
        offset += chunk_size + (chunk_size & 1)  # chunks are padded to an even length


def _read_duration(path: Path, audio_format: str) -> float:
    try:
        audio = _READERS[audio_format](path)
    except MutagenError as exc:
        raise AudioInvalid(f"unreadable {audio_format}: {exc}") from exc
    return float(audio.info.length)
