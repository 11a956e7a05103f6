"""The sweeper's chores: which run, and the ones that need no database."""

from __future__ import annotations

import os
import time
from pathlib import Path

from sweeper.chores import remove_stale_downloads


class TestRemoveStaleDownloads:
    def test_only_old_partial_files_in_customer_folders_go(self, tmp_path: Path) -> None:
        """A killed download's old partial file is removed; live ones and audio stay."""
        folder = tmp_path / "audio" / "customer-1"
        folder.mkdir(parents=True)
        old = folder / ".job.wav.0123456789abcdef.part"
        live = folder / ".job2.wav.fedcba9876543210.part"
        audio = folder / "job3.wav"
        for path in (old, live, audio):
            path.write_bytes(b"x")
        hour_ago = time.time() - 3600
        os.utime(old, (hour_ago, hour_ago))
        os.utime(audio, (hour_ago, hour_ago))
        assert remove_stale_downloads(tmp_path / "audio", older_than_seconds=600) == 1
        assert sorted(p.name for p in folder.iterdir()) == sorted([live.name, audio.name])
        assert remove_stale_downloads(tmp_path / "missing", older_than_seconds=600) == 0
