"""A download's memory stays flat: a child process fetches and verifies 200 MB."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.processors import fileserver
from tests.processors.download.child import CHILD_DOWNLOAD
from tests.processors.fileserver import FileServer
from tests.services import ROOT


class TestDownloadMemory:
    SIZE = 200 * 1024 * 1024 + 44  # a 200 MB wav (header + whole samples)
    LIMIT_KIB = 50 * 1024

    def test_a_200_mb_download_keeps_the_peak_rss_flat(
        self, server: FileServer, path: str, tmp_path: Path
    ) -> None:
        """Downloading and verifying a 200 MB wav raises a process's peak RSS by under 50 MB."""
        url = server.serve(path, fileserver.streamed_wav(self.SIZE))
        seconds = (self.SIZE - 44) / 2 / fileserver.WAV_SAMPLE_RATE
        done = subprocess.run(
            [
                sys.executable,
                "-c",
                CHILD_DOWNLOAD,
                url,
                str(tmp_path / "big.wav"),
                server.host,
                str(seconds),
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        report = json.loads(done.stdout)
        expected = hashlib.sha256()
        for chunk in fileserver.wav_chunks(self.SIZE):
            expected.update(chunk)
        assert (report["size"], report["sha256"]) == (self.SIZE, expected.hexdigest())
        assert report["duration"] == pytest.approx(seconds)
        growth = report["after"] - report["before"]
        print(f"peak RSS {report['before']} KiB idle -> {report['after']} KiB (+{growth} KiB)")
        assert growth < self.LIMIT_KIB
