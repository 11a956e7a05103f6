"""Audio checks: magic bytes, durations read by mutagen, and the tolerance on the expected one."""

from __future__ import annotations

import array
import math
import wave
from collections.abc import Callable
from pathlib import Path

import lameenc
import pytest

from processors.audio import (
    AudioFacts,
    duration_agrees,
    duration_tolerance,
    inspect_audio,
    sniff_format,
    verify_audio,
)
from processors.errors import AudioInvalid, ProcessingError, UnknownAudioFormat
from tests.processors.fileserver import wav_header

SAMPLE_RATE = 22050


def tone(seconds: float, sample_rate: int = SAMPLE_RATE) -> bytes:
    """Mono 16-bit PCM of a 440 Hz sine."""
    count = round(seconds * sample_rate)
    return array.array(
        "h", (int(8000 * math.sin(2 * math.pi * 440 * i / sample_rate)) for i in range(count))
    ).tobytes()


def make_wav(path: Path, seconds: float) -> Path:
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(SAMPLE_RATE)
        wav.writeframes(tone(seconds))
    return path


def make_mp3(path: Path, seconds: float) -> Path:
    encoder = lameenc.Encoder()
    encoder.set_bit_rate(64)
    encoder.set_in_sample_rate(SAMPLE_RATE)
    encoder.set_channels(1)
    encoder.set_quality(7)
    path.write_bytes(bytes(encoder.encode(tone(seconds))) + bytes(encoder.flush()))
    return path


def cut(path: Path, keep: int) -> Path:
    path.write_bytes(path.read_bytes()[:keep])
    return path


class TestSniffFormat:
    def test_wav_is_riff_wave(self) -> None:
        """RIFF....WAVE is a wav, whatever the size field says."""
        assert sniff_format(b"RIFF\xff\xff\xff\xffWAVEfmt ") == "wav"

    def test_other_riff_is_not_wav(self) -> None:
        """A RIFF container of another kind (an AVI) is neither format."""
        assert sniff_format(b"RIFF\x00\x00\x00\x00AVI LIST") is None

    def test_id3_tag_is_mp3(self) -> None:
        """A file starting with an ID3v2 tag is an mp3."""
        assert sniff_format(b"ID3\x04\x00\x00\x00\x00\x00\x00") == "mp3"

    @pytest.mark.parametrize("header", [b"\xff\xfb\x90\x64", b"\xff\xf3\x80\xc4", b"\xff\xe3"])
    def test_mpeg_frame_sync_is_mp3(self, header: bytes) -> None:
        """An MPEG frame header (11 sync bits) at the start is an mp3."""
        assert sniff_format(header) == "mp3"

    @pytest.mark.parametrize(
        "header",
        [
            b"\xff\xd8\xff\xe0",  # JPEG: sync bits incomplete
            b"\xff\xeb\x90\x64",  # reserved MPEG version
            b"\xff\xf9\x90\x64",  # reserved layer
            b"<html>",
            b"\x00" * 12,
            b"\xff",
            b"",
        ],
    )
    def test_anything_else_is_neither(self, header: bytes) -> None:
        """Other magic, reserved frame header fields, short and empty headers are rejected."""
        assert sniff_format(header) is None


class TestDurationTolerance:
    def test_at_least_a_second(self) -> None:
        """Short clips get a full second: an integer durationSec may be truncated."""
        assert duration_tolerance(0) == 1.0
        assert duration_tolerance(3) == 1.0
        assert duration_tolerance(50) == 1.0

    def test_two_percent_of_long_clips(self) -> None:
        """Beyond 50 s the tolerance grows to 2 % of the expected duration."""
        assert duration_tolerance(100) == pytest.approx(2.0)
        assert duration_tolerance(3600) == pytest.approx(72.0)


class TestDurationAgrees:
    @pytest.mark.parametrize(("actual", "expected"), [(3.4, 3), (2.6, 3), (3.9, 3), (4.0, 3)])
    def test_rounded_or_truncated_seconds_agree(self, actual: float, expected: float) -> None:
        """A whole-second durationSec agrees with the file's exact length, bound included."""
        assert duration_agrees(actual, expected, None)

    @pytest.mark.parametrize(("actual", "expected"), [(4.1, 3), (1.9, 3), (102.1, 100)])
    def test_beyond_the_tolerance_disagrees(self, actual: float, expected: float) -> None:
        """More than max(1 s, 2 %) apart disagrees."""
        assert not duration_agrees(actual, expected, None)

    def test_an_explicit_tolerance_replaces_the_default(self) -> None:
        """An explicit tolerance is absolute seconds, tighter or looser than the default."""
        assert not duration_agrees(3.4, 3, 0.25)
        assert duration_agrees(8.0, 3, 5.0)


class TestInspectAudio:
    def test_wav_facts(self, tmp_path: Path) -> None:
        """A wav's format, exact duration and size are reported."""
        path = make_wav(tmp_path / "a.wav", 3.0)
        assert inspect_audio(path, "wav") == AudioFacts(
            format="wav", duration_sec=3.0, size=44 + 3 * SAMPLE_RATE * 2
        )

    def test_mp3_facts(self, tmp_path: Path) -> None:
        """An mp3's duration is its encoded length, within encoder delay and padding."""
        path = make_mp3(tmp_path / "a.mp3", 3.0)
        facts = inspect_audio(path, "mp3")
        assert (facts.format, facts.size) == ("mp3", path.stat().st_size)
        assert facts.duration_sec == pytest.approx(3.0, abs=0.1)

    def test_mp3_with_id3_tag(self, tmp_path: Path) -> None:
        """An mp3 that starts with an ID3v2 tag is read past the tag."""
        frames = make_mp3(tmp_path / "a.mp3", 2.0).read_bytes()
        tag = b"ID3\x04\x00\x00\x00\x00\x00\x0a" + b"\x00" * 10  # an empty 10-byte tag body
        path = tmp_path / "tagged.mp3"
        path.write_bytes(tag + frames)
        assert inspect_audio(path, "mp3").duration_sec == pytest.approx(2.0, abs=0.1)

    @pytest.mark.parametrize(("maker", "claimed"), [(make_wav, "mp3"), (make_mp3, "wav")])
    def test_the_other_format_is_invalid(
        self, tmp_path: Path, maker: Callable[[Path, float], Path], claimed: str
    ) -> None:
        """A real file of the other format fails the magic check."""
        path = maker(tmp_path / "a.bin", 1.0)
        with pytest.raises(AudioInvalid, match="starts like"):
            inspect_audio(path, claimed)

    @pytest.mark.parametrize("audio_format", ["wav", "mp3"])
    @pytest.mark.parametrize(
        "content",
        [b"", b"<Error><Code>AccessDenied</Code></Error>", b"\x00" * 4096],
        ids=["empty", "xml-error", "zeros"],
    )
    def test_garbage_is_invalid(self, tmp_path: Path, audio_format: str, content: bytes) -> None:
        """Empty files, error pages served as audio and zeros are not audio."""
        path = tmp_path / f"a.{audio_format}"
        path.write_bytes(content)
        with pytest.raises(AudioInvalid):
            inspect_audio(path, audio_format)

    def test_mp3_sync_followed_by_garbage_is_unreadable(self, tmp_path: Path) -> None:
        """Right magic, no decodable frames: mutagen's refusal becomes AudioInvalid."""
        path = tmp_path / "a.mp3"
        path.write_bytes(b"\xff\xfb" + b"\x00" * 2000)
        with pytest.raises(AudioInvalid, match="unreadable mp3"):
            inspect_audio(path, "mp3")

    def test_wav_cut_inside_its_header_is_unreadable(self, tmp_path: Path) -> None:
        """A wav cut before its chunks end is invalid."""
        path = cut(make_wav(tmp_path / "a.wav", 1.0), 30)
        with pytest.raises(AudioInvalid):
            inspect_audio(path, "wav")

    def test_truncated_wav_is_invalid(self, tmp_path: Path) -> None:
        """A wav whose data chunk runs past the end of the file is truncated, not shorter."""
        path = make_wav(tmp_path / "a.wav", 2.0)
        cut(path, path.stat().st_size - 100)
        with pytest.raises(AudioInvalid, match="truncated"):
            inspect_audio(path, "wav")

    def test_wav_data_after_other_chunks_is_found(self, tmp_path: Path) -> None:
        """A LIST chunk (odd-sized, padded) before the data chunk is skipped correctly."""
        pcm = tone(1.0)
        header = wav_header(len(pcm))
        info = b"LIST" + (5).to_bytes(4, "little") + b"INFOx\x00"
        riff_size = (4 + len(info) + len(header) - 12 + len(pcm)).to_bytes(4, "little")
        path = tmp_path / "a.wav"
        path.write_bytes(b"RIFF" + riff_size + b"WAVE" + info + header[12:] + pcm)
        assert inspect_audio(path, "wav").duration_sec == pytest.approx(1.0)

    def test_empty_wav_is_invalid(self, tmp_path: Path) -> None:
        """A well-formed wav with no samples holds no audio."""
        path = make_wav(tmp_path / "a.wav", 0.0)
        with pytest.raises(AudioInvalid, match="no audio"):
            inspect_audio(path, "wav")

    def test_unknown_format_is_a_programming_error(self, tmp_path: Path) -> None:
        """Only mp3 and wav are known; anything else is the caller's bug."""
        with pytest.raises(UnknownAudioFormat, match="flac"):
            inspect_audio(make_wav(tmp_path / "a.wav", 1.0), "flac")

    def test_audio_invalid_carries_its_reason(self, tmp_path: Path) -> None:
        """AudioInvalid is a ProcessingError whose reason is its message."""
        path = tmp_path / "a.wav"
        path.write_bytes(b"nope")
        with pytest.raises(ProcessingError) as caught:
            inspect_audio(path, "wav")
        assert isinstance(caught.value, AudioInvalid)
        assert caught.value.reason == str(caught.value)


class TestVerifyAudio:
    def test_matching_duration_passes(self, tmp_path: Path) -> None:
        """A 3.4 s wav verifies against durationSec 3 and returns its facts."""
        path = make_wav(tmp_path / "a.wav", 3.4)
        assert verify_audio(path, "wav", 3).duration_sec == pytest.approx(3.4)

    def test_mp3_within_tolerance_passes(self, tmp_path: Path) -> None:
        """An mp3's encoder padding stays within the default tolerance."""
        assert verify_audio(make_mp3(tmp_path / "a.mp3", 5.0), "mp3", 5).format == "mp3"

    def test_duration_mismatch_is_invalid(self, tmp_path: Path) -> None:
        """A file that plays well off the expected duration is rejected with both numbers."""
        path = make_wav(tmp_path / "a.wav", 2.0)
        with pytest.raises(AudioInvalid, match=r"plays 2\.00s, expected 4s"):
            verify_audio(path, "wav", 4)

    def test_truncated_mp3_is_caught_by_its_duration(self, tmp_path: Path) -> None:
        """An mp3 cut in half still parses, but plays half as long as expected."""
        path = make_mp3(tmp_path / "a.mp3", 6.0)
        cut(path, path.stat().st_size // 2)
        with pytest.raises(AudioInvalid, match="plays"):
            verify_audio(path, "mp3", 6)

    def test_no_expected_duration_checks_only_the_file(self, tmp_path: Path) -> None:
        """Without an expected duration any readable length passes."""
        assert verify_audio(make_wav(tmp_path / "a.wav", 1.5), "wav", None).duration_sec == 1.5

    def test_explicit_tolerance_is_used(self, tmp_path: Path) -> None:
        """A tighter explicit tolerance rejects what the default would accept."""
        path = make_wav(tmp_path / "a.wav", 3.4)
        with pytest.raises(AudioInvalid):
            verify_audio(path, "wav", 3, tolerance_sec=0.1)
