"""`voicehook sweeper`'s /metrics, as a real process: its repairs counted, and its
ALERT_WEBHOOK_URL chore telling a real HTTP receiver."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Engine

from config.redis_connection import redis_client
from tests.monitoring.rows import add_event
from tests.monitoring.slack_sink import SlackSink, slack_sink
from tests.processors.test_worker_processes import Processes
from tests.receiver.conftest import receiver_env
from tests.services import free_port
from tests.waiting import wait_until


@pytest.fixture
def processes(tmp_path: Path) -> Iterator[Processes]:
    running = Processes({}, tmp_path)
    try:
        yield running
    finally:
        running.stop_all()


def scrape(port: int) -> dict[str, float] | None:
    try:
        response = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10)
    except httpx.HTTPError:
        return None
    return {
        sample.name + str(sorted(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


class TestSweeperMetrics:
    def test_repairs_counted_and_alerts_told(
        self,
        processes: Processes,
        migrated_engine: Engine,
        database_url: str,
        redis_url: str,
        tmp_path: Path,
    ) -> None:
        """An event never enqueued and a killed download's partial file: the sweeper
        repairs both and counts them on its /metrics, with the queue gauges; a dead letter
        is told to ALERT_WEBHOOK_URL once."""
        add_event(migrated_engine, "received", age=timedelta(hours=1))
        folder = tmp_path / "audio" / "customer-1"
        folder.mkdir(parents=True)
        partial = folder / ".job.wav.0123456789abcdef.part"
        partial.write_bytes(b"x")
        hour_ago = time.time() - 3600
        os.utime(partial, (hour_ago, hour_ago))
        redis_client(redis_url).zadd("dramatiq:jobs.XQ", {"m1": 1})
        port = free_port()
        with slack_sink() as sink:
            processes.start(
                "sweeper",
                name="sweeper",
                env=receiver_env(
                    database_url,
                    redis_url,
                    AUDIO_DIR=str(tmp_path / "audio"),
                    SWEEPER_METRICS_PORT=str(port),
                    SWEEPER_INTERVAL_SECONDS="0.5",
                    SWEEPER_MIN_AGE_SECONDS="1",
                    EVENT_LEASE_SECONDS="60",
                    ALERT_WEBHOOK_URL=sink.url,
                ),
            )

            def repaired() -> dict[str, float] | None:
                found = scrape(port)
                if not found:
                    return None
                counted = ("events_enqueued", "partial_files_removed")
                if not all(found.get(f"voicehook_sweeper_{name}_total[]") for name in counted):
                    return None  # a round's chores run one after the other
                if found.get("voicehook_signals_up[]") != 1:
                    return None  # a read slower than the time limit: the next scrape has it
                # Counted once the POST has returned, just after the sink has the body.
                sent = found.get("voicehook_alert_notifications_total[('outcome', 'sent')]")
                return found if sent else None

            found = wait_until(repaired, description="the repairs counted", log=processes.logs)
            self.check(found, sink, partial)

    @staticmethod
    def check(found: dict[str, float], sink: SlackSink, partial: Path) -> None:
        assert found["voicehook_sweeper_events_enqueued_total[]"] == 1
        assert found["voicehook_sweeper_partial_files_removed_total[]"] == 1
        assert not partial.exists()
        assert found["voicehook_dead_letters[('queue', 'jobs')]"] == 1
        assert found["voicehook_alert_notifications_total[('outcome', 'sent')]"] >= 1
        assert any("dead_letters" in text and "[FIRING]" in text for text in sink.texts)
        assert sum("dead_letters" in text for text in sink.texts) == 1
