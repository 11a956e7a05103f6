"""The sweeper's chores: which run, and the ones that need no database."""

from __future__ import annotations

import os
import time
from pathlib import Path

from sqlalchemy import Engine

from config.broker import build_broker
from sweeper.chores import build_chores, remove_stale_downloads
from tests.conftest import make_settings


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


class TestBuildChores:
    def test_every_chore_and_reconciliation_only_with_an_api_key(
        self, migrated_engine: Engine, database_url: str, redis_url: str
    ) -> None:
        """Without VPAI_API_KEY the sweeper runs everything but reconciliation."""
        names = [
            "enqueue_received_events",
            "send_unsent_notifications",
            "requeue_stalled_events",
            "recover_jobs",
            "settle_unknown_submissions",
            "remove_stale_downloads",
            "recover_voices",
            "prune_idempotency_keys",
        ]
        settings = make_settings(database_url, redis_url)
        broker = build_broker(settings)
        assert [c.name for c in build_chores(settings, migrated_engine, broker)] == names
        keyed = make_settings(database_url, redis_url, vpai_api_key="vk_test_sandbox")
        chores = build_chores(keyed, migrated_engine, broker)
        assert [c.name for c in chores] == [*names, "reconcile"]

    def test_an_idle_round_asks_for_no_second_round(
        self, migrated_engine: Engine, database_url: str, redis_url: str, tmp_path: Path
    ) -> None:
        """On an empty database no chore reports more work waiting."""
        settings = make_settings(database_url, redis_url, audio_dir=tmp_path / "audio")
        chores = build_chores(settings, migrated_engine, build_broker(settings))
        assert [chore.run() for chore in chores] == [False] * len(chores)
