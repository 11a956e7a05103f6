"""Redis down: events are still accepted, and the sweeper enqueues them once it is back."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
from sqlalchemy import Engine

from tests.receiver.conftest import enqueued_event_ids, envelope, events, post, receiver_env
from tests.services import ROOT, start_receiver, wait_for
from voicehook.redis_server import RedisServer


class TestBrokerOutage:
    def test_accepts_while_redis_is_down_then_sweeper_enqueues(
        self,
        database_url: str,
        migrated_engine: Engine,
        private_redis: RedisServer,
        tmp_path: Path,
    ) -> None:
        """With Redis stopped, deliveries get 202 and stay `received`; a sweeper enqueues them."""
        server = start_receiver(
            receiver_env(database_url, private_redis.url), tmp_path / "receiver.log"
        )
        try:
            private_redis.stop()
            ids = []
            for n in range(5):
                response = post(server, envelope(resource_id=f"gen-{n}"))
                assert response.status_code == 202
                ids.append(response.json()["eventId"])
            assert {e["status"] for e in events(migrated_engine)} == {"received"}
            assert httpx.get(server.url + "/readyz", timeout=15).status_code == 503
        finally:
            server.stop()

        private_redis.start()
        sweeper = subprocess.Popen(
            [sys.executable, "-m", "voicehook", "sweeper"],
            env={
                **os.environ,
                **receiver_env(database_url, private_redis.url),
                "SWEEPER_INTERVAL_SECONDS": "0.2",
                "SWEEPER_MIN_AGE_SECONDS": "0",
            },
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_for(lambda: sorted(enqueued_event_ids(private_redis.url)) == sorted(ids))
            wait_for(lambda: {e["status"] for e in events(migrated_engine)} == {"queued"})
        finally:
            sweeper.send_signal(signal.SIGTERM)
            assert sweeper.wait(10) == 0
