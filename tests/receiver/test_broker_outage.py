"""Redis down: events are still accepted, and the sweeper enqueues them once it is back."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from sqlalchemy import Engine

from tests.conftest import make_settings
from tests.in_process import receiver_client
from tests.receiver.conftest import enqueued_event_ids, envelope, events, post, receiver_env
from tests.services import ROOT, wait_for
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
        with receiver_client(make_settings(database_url, private_redis.url)) as client:
            private_redis.stop()
            ids = []
            for n in range(5):
                response = post(client, envelope(resource_id=f"gen-{n}"))
                assert response.status_code == 202
                ids.append(response.json()["eventId"])
            assert {e["status"] for e in events(migrated_engine)} == {"received"}
            assert client.get("/readyz").status_code == 503

        private_redis.start()
        log = (tmp_path / "sweeper.log").open("wb")
        sweeper = subprocess.Popen(
            [sys.executable, "-m", "voicehook", "sweeper"],
            env={
                **os.environ,
                **receiver_env(database_url, private_redis.url),
                "SWEEPER_INTERVAL_SECONDS": "0.2",
                "SWEEPER_MIN_AGE_SECONDS": "0",
            },
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        sweeper_log = (tmp_path / "sweeper.log").read_text
        try:
            wait_for(
                lambda: sorted(enqueued_event_ids(private_redis.url)) == sorted(ids),
                description="the sweeper enqueued every event",
                log=sweeper_log,
            )
            wait_for(
                lambda: {e["status"] for e in events(migrated_engine)} == {"queued"},
                description="the sweeper marked every event queued",
                log=sweeper_log,
            )
        finally:
            sweeper.send_signal(signal.SIGTERM)
            assert sweeper.wait(30) == 0, sweeper_log()
            log.close()
