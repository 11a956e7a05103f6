"""The health snapshot and its gauges, read from a real database (SQLite and PostgreSQL) and
a real Redis."""

from __future__ import annotations

import threading
from datetime import timedelta

import redis
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Engine

from config.redis_connection import redis_client
from monitoring.gauges import CachedSignals, QueueGauges
from monitoring.signals import Signals, budget_of, read_signals
from records.types import utcnow
from tests.conftest import make_settings
from tests.monitoring.rows import add_endpoint, add_event, add_job
from tests.waiting import wait_until


def samples(signals: CachedSignals) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """The gauges as exposed text parsed back: (name, labels) → value."""
    registry = CollectorRegistry()
    registry.register(QueueGauges(signals))
    text = generate_latest(registry).decode()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


class TestReadSignals:
    def test_counts_ages_and_queues(
        self, migrated_engine: Engine, database_url: str, redis_url: str
    ) -> None:
        """Events and jobs by status, the oldest unprocessed event's age, stuck events,
        flagged endpoints, each queue's dead letters and the budget's used slots."""
        settings = make_settings(
            database_url, redis_url, vpai_api_key="vk_test_signals", event_lease_seconds=60
        )
        add_event(migrated_engine, "processed", age=timedelta(hours=5))
        add_event(migrated_engine, "failed")
        add_event(migrated_engine, "queued", age=timedelta(minutes=20))
        add_event(migrated_engine, "received", age=timedelta(minutes=1))
        add_event(
            migrated_engine, "processing", age=timedelta(minutes=3), started_ago=timedelta(hours=1)
        )
        add_job(migrated_engine, "blocked")
        add_job(migrated_engine, "ready")
        add_job(migrated_engine, "ready")
        add_endpoint(migrated_engine, "http://app.example/hooks", flagged_at=utcnow())
        add_endpoint(migrated_engine, "http://ok.example/hooks", flagged_at=None)
        client = redis_client(redis_url)
        client.zadd("dramatiq:events.XQ", {"m1": 1, "m2": 2})
        client.rpush("dramatiq:jobs", "m3")
        found = budget_of(settings, client)
        assert found is not None
        workspace, budget = found
        assert budget.try_acquire() == 0.0

        signals = read_signals(settings, migrated_engine, client)

        counts = signals.counts
        assert counts.events_by_status == {
            "processed": 1, "failed": 1, "queued": 1, "received": 1, "processing": 1,
        }  # fmt: skip
        assert counts.jobs_by_status == {"blocked": 1, "ready": 2}
        assert 19 * 60 < signals.oldest_unprocessed_age_seconds < 60 * 60
        assert counts.stuck_events == 1  # processing for an hour with a 60 s lease
        assert counts.flagged_endpoints == ["http://app.example/hooks"]
        assert signals.queues["events"].dead == 2
        assert signals.queues["jobs"].waiting == 1
        assert signals.dead_letters == 2
        assert signals.backlog == 3
        assert signals.workspace == workspace
        assert signals.budget is not None
        assert (signals.budget.used, signals.budget.available) == (1, 59)

    def test_nothing_stored(self, migrated_engine: Engine, database_url: str) -> None:
        """An empty database without Redis: zero counts, no age, no queues, no budget."""
        signals = read_signals(make_settings(database_url), migrated_engine, None)
        assert signals.oldest_unprocessed_age_seconds == 0.0
        assert signals.counts.events_by_status == {}
        assert signals.queues == {}
        assert signals.budget is None


class TestQueueGauges:
    def test_every_status_is_a_gauge(
        self, sqlite_engine: Engine, sqlite_url: str, redis_url: str
    ) -> None:
        """Each event and job status appears (0 when none), with queue depths, dead letters
        and the budget by workspace; no id in any label."""
        settings = make_settings(sqlite_url, redis_url, vpai_api_key="vk_test_gauges")
        add_event(sqlite_engine, "failed")
        add_job(sqlite_engine, "blocked")
        client = redis_client(redis_url)
        client.zadd("dramatiq:notifications.XQ", {"m1": 1})
        cached = CachedSignals(
            lambda: read_signals(settings, sqlite_engine, client), timeout_seconds=60
        )
        found = samples(cached)
        assert found[("voicehook_signals_up", ())] == 1.0
        assert found[("voicehook_events", (("status", "failed"),))] == 1.0
        assert found[("voicehook_events", (("status", "queued"),))] == 0.0
        assert found[("voicehook_jobs", (("status", "blocked"),))] == 1.0
        assert found[("voicehook_jobs_blocked", ())] == 1.0
        assert found[("voicehook_dead_letters", (("queue", "notifications"),))] == 1.0
        assert found[("voicehook_queue_messages", (("queue", "events"), ("state", "dead")))] == 0
        budget = [k for k in found if k[0] == "voicehook_budget_slots_available"]
        assert [dict(labels)["workspace"] for _, labels in budget] == [
            budget_of(settings, client)[0]  # type: ignore[index]
        ]
        label_values = {v for _, labels in found for _, v in labels}
        assert not any(len(v) >= 32 for v in label_values)  # no uuid

    def test_a_store_that_fails_reports_down(self, sqlite_url: str) -> None:
        """A read that raises: voicehook_signals_up 0 and no gauges, not an error."""

        def broken() -> Signals:
            raise redis.ConnectionError("Redis is down")

        found = samples(CachedSignals(broken))
        assert found == {("voicehook_signals_up", ()): 0.0}


class TestCachedSignals:
    def test_read_once_per_cache_period(self, sqlite_engine: Engine, sqlite_url: str) -> None:
        """Scrapes within the cache period share one read; after it, a new one is made."""
        settings = make_settings(sqlite_url)
        reads = []
        now = [0.0]

        def read() -> Signals:
            reads.append(1)
            return read_signals(settings, sqlite_engine, None)

        cached = CachedSignals(read, cache_seconds=5.0, timeout_seconds=60, clock=lambda: now[0])
        first = cached.get()
        assert cached.get() is first
        assert len(reads) == 1
        now[0] = 6.0
        assert cached.get() is not first
        assert len(reads) == 2

    def test_a_slow_read_serves_the_last_snapshot(
        self, sqlite_engine: Engine, sqlite_url: str
    ) -> None:
        """A read past the time limit: the last snapshot is served (not fresh), the read goes
        on, and its result is served once it is done."""
        settings = make_settings(sqlite_url)
        release = threading.Event()
        slow = [False]
        now = [0.0]

        def read() -> Signals:
            if slow[0]:
                release.wait()
            return read_signals(settings, sqlite_engine, None)

        cached = CachedSignals(read, cache_seconds=1.0, timeout_seconds=0.01, clock=lambda: now[0])
        # The first read may itself outlast the short limit on a loaded machine: wait for it.
        first = wait_until(cached.get, description="the first read is served")
        assert cached.fresh
        slow[0] = True
        now[0] = 2.0
        assert cached.get() is first
        assert not cached.fresh
        assert samples(cached)[("voicehook_signals_up", ())] == 0.0
        release.set()
        wait_until(lambda: cached.get() is not first, description="the slow read is served")
        assert cached.fresh
