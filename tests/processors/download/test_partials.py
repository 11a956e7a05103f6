"""Partial files left by interrupted downloads: recognised and removed, nothing else."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from processors.download import remove_stale_partials
from tests.processors import fileserver
from tests.processors.download.child import CHILD_DOWNLOAD
from tests.processors.download.conftest import BODY, leftovers
from tests.processors.fileserver import FileServer
from tests.services import ROOT, wait_for


class TestRemoveStalePartials:
    def test_removes_old_partials_only(self, tmp_path: Path) -> None:
        """Old .part files go; fresh ones, finished files and look-alikes stay."""
        old = tmp_path / ".a.wav.0123456789abcdef.part"
        fresh = tmp_path / ".b.wav.fedcba9876543210.part"
        keep = ["a.wav", ".hidden", "x.part", ".a.wav.part", ".c.wav.nothex!!!!!!!!!.part"]
        for name in [old.name, fresh.name, *keep]:
            (tmp_path / name).write_bytes(b"x")
        an_hour_ago = time.time() - 3600
        for name in [old.name, *keep]:
            os.utime(tmp_path / name, (an_hour_ago, an_hour_ago))
        assert remove_stale_partials(tmp_path, older_than_seconds=600) == [old]
        assert leftovers(tmp_path) == sorted([fresh.name, *keep])

    def test_cleans_up_after_a_killed_download(
        self, server: FileServer, path: str, tmp_path: Path
    ) -> None:
        """The .part file a SIGKILLed process leaves behind is recognised and removed."""
        url = server.serve(path, fileserver.slow(BODY, chunk_size=16 * 1024, delay=0.2))
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD_DOWNLOAD, url, str(tmp_path / "a.wav"), server.host],
            cwd=ROOT,
        )
        try:
            wait_for(
                lambda: list(tmp_path.glob(".a.wav.*.part")) or child.poll() is not None,
                interval=0.02,
                description="the child started writing",
            )
            assert child.poll() is None, "the child exited before it was killed"
        finally:
            child.kill()
            child.wait()
        (partial,) = tmp_path.glob(".a.wav.*.part")
        assert remove_stale_partials(tmp_path, older_than_seconds=0) == [partial]
        assert leftovers(tmp_path) == []

    def test_a_missing_directory_has_nothing_to_remove(self, tmp_path: Path) -> None:
        """No directory yet (nothing downloaded) is not an error."""
        assert remove_stale_partials(tmp_path / "absent", older_than_seconds=0) == []
