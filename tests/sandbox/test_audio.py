"""Real audio files: lengths that match the script or the forced duration, written in chunks."""

from __future__ import annotations

import tracemalloc
import wave
from pathlib import Path

import mutagen
import pytest

from sandbox.audio import SAMPLE_RATE, Speech, espeak_available, render, speech_seconds


def file_seconds(path: Path) -> float:
    audio = mutagen.File(path)
    assert audio is not None, f"{path} is not an audio file"
    return float(audio.info.length)


class TestSpeechSeconds:
    def test_follows_the_script_and_the_speed(self) -> None:
        """Longer scripts speak longer; faster speech is shorter; never under a second."""
        assert speech_seconds("x" * 140, 1.0) == pytest.approx(10.0)
        assert speech_seconds("x" * 140, 2.0) == pytest.approx(5.0)
        assert speech_seconds("Hi", 1.0) == 1.0


class TestRender:
    def test_wav_duration_matches_the_file(self, tmp_path: Path) -> None:
        """The reported duration is the wav's own, to the millisecond."""
        audio = render(tmp_path / "a.wav", "wav", Speech("Hello, world! " * 5), "tone")
        assert audio.duration_sec == pytest.approx(file_seconds(audio.path), abs=0.001)
        assert audio.duration_sec == pytest.approx(speech_seconds("Hello, world! " * 5, 1), 0.01)
        assert audio.size_bytes == audio.path.stat().st_size
        with wave.open(str(audio.path)) as wav:
            assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (
                1,
                2,
                SAMPLE_RATE,
            )

    def test_mp3_duration_matches_the_file(self, tmp_path: Path) -> None:
        """An mp3 from lameenc parses, and its length is the reported one within a frame or two."""
        audio = render(tmp_path / "a.mp3", "mp3", Speech("Hello there. " * 8), "tone")
        assert audio.path.read_bytes()[:2] in (b"\xff\xfb", b"\xff\xf3", b"\xff\xf2", b"ID")
        assert file_seconds(audio.path) == pytest.approx(audio.duration_sec, abs=0.15)

    def test_a_forced_duration_wins_over_the_script(self, tmp_path: Path) -> None:
        """A control-API duration override sets the file's length exactly."""
        audio = render(tmp_path / "a.wav", "wav", Speech("Hi", duration=12.5), "auto")
        assert audio.duration_sec == 12.5
        assert audio.size_bytes == 44 + round(12.5 * SAMPLE_RATE) * 2
        assert audio.engine == "tone"

    def test_large_files_are_written_without_holding_them(self, tmp_path: Path) -> None:
        """A 50 MB wav is produced with a few hundred KB of memory at most."""
        tracemalloc.start()
        try:
            audio = render(tmp_path / "big.wav", "wav", Speech("Long", duration=1200), "tone")
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert audio.size_bytes > 50_000_000
        assert peak < 2_000_000
        assert file_seconds(audio.path) == pytest.approx(1200)

    def test_no_partial_file_is_left_behind(self, tmp_path: Path) -> None:
        """Only the finished file exists after rendering; the `.part` name is gone."""
        render(tmp_path / "a.mp3", "mp3", Speech("Hello"), "tone")
        assert [p.name for p in tmp_path.iterdir()] == ["a.mp3"]

    @pytest.mark.skipif(not espeak_available(), reason="espeak-ng is not installed")
    def test_speaks_with_espeak_when_installed(self, tmp_path: Path) -> None:
        """With espeak-ng present, `auto` produces real speech whose duration is the file's."""
        audio = render(tmp_path / "a.mp3", "mp3", Speech("Hello, world!", language="en"), "auto")
        assert audio.engine == "espeak"
        assert file_seconds(audio.path) == pytest.approx(audio.duration_sec, abs=0.15)
