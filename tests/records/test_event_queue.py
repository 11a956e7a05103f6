"""Events put back on the broker from the database: once each, with sweepers racing."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta
from functools import partial
from uuid import uuid4

import pytest
from sqlalchemy import Engine, update

from config.broker import build_broker, enqueue_events
from config.errors import BrokerUnavailable
from records.envelope import parse_event
from records.event_queue import enqueue_received, requeue_stalled
from records.event_store import EventStore, Incoming
from records.events import EVENTS
from records.types import utcnow
from tests.conftest import make_settings
from tests.receiver.conftest import enqueued_event_ids, envelope, events
from voicehook.redis_server import RedisServer


def store_received(engine: Engine, count: int, age_seconds: float) -> list[str]:
    """Commit `count` known events as the receiver would, received `age_seconds` ago."""
    received_at = utcnow() - timedelta(seconds=age_seconds)
    batch = []
    for _ in range(count):
        body = envelope(resource_id=str(uuid4()))
        batch.append(
            Incoming(
                event_id=str(uuid4()),
                event=parse_event(body),
                body=body,
                headers={},
                remote_addr=None,
                secret_fingerprint="test",
                received_at=received_at,
            )
        )
    return [o.event_id for o in EventStore(engine).persist(batch)]


class TestEnqueueReceived:
    def test_enqueues_only_old_received_events(
        self, migrated_engine: Engine, database_url: str, redis_url: str
    ) -> None:
        """Events older than the minimum age are enqueued and marked queued; fresh ones wait."""
        old = store_received(migrated_engine, 3, age_seconds=120)
        fresh = store_received(migrated_engine, 2, age_seconds=0)
        broker = build_broker(make_settings(database_url, redis_url))
        enqueue = partial(enqueue_events, broker)
        assert enqueue_received(migrated_engine, enqueue, min_age_seconds=60, limit=100) == 3
        assert sorted(enqueued_event_ids(redis_url)) == sorted(old)
        status = {e["id"]: e["status"] for e in events(migrated_engine)}
        assert {status[i] for i in old} == {"queued"}
        assert {status[i] for i in fresh} == {"received"}
        assert enqueue_received(migrated_engine, enqueue, min_age_seconds=60, limit=100) == 0

    def test_broker_down_leaves_events_received(
        self, migrated_engine: Engine, database_url: str, private_redis: RedisServer
    ) -> None:
        """If Redis refuses, the claim is rolled back and the events stay for the next sweep."""
        store_received(migrated_engine, 2, age_seconds=120)
        broker = build_broker(make_settings(database_url, private_redis.url))
        private_redis.stop()
        with pytest.raises(BrokerUnavailable):
            enqueue_received(
                migrated_engine, partial(enqueue_events, broker), min_age_seconds=0, limit=10
            )
        assert {e["status"] for e in events(migrated_engine)} == {"received"}

    def test_racing_sweepers_enqueue_each_event_once(
        self, migrated_engine: Engine, database_url: str, redis_url: str
    ) -> None:
        """Four sweepers at once, small batches: every event enqueued exactly once."""
        ids = store_received(migrated_engine, 120, age_seconds=120)
        broker = build_broker(make_settings(database_url, redis_url))
        enqueue = partial(enqueue_events, broker)
        barrier = threading.Barrier(4)
        errors: list[BaseException] = []

        def sweep() -> None:
            barrier.wait()
            try:
                while enqueue_received(migrated_engine, enqueue, min_age_seconds=0, limit=7):
                    pass
            except BaseException as exc:  # reported to the test thread
                errors.append(exc)

        threads = [threading.Thread(target=sweep) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert errors == []
        counts = Counter(enqueued_event_ids(redis_url))
        assert set(counts) == set(ids)
        assert max(counts.values()) == 1


class TestRequeueStalled:
    def test_requeues_dead_workers_and_lost_messages_only(
        self, migrated_engine: Engine, database_url: str, redis_url: str
    ) -> None:
        """Processing past its lease and queued-but-forgotten events are enqueued again."""
        died, lost, busy, waiting = store_received(migrated_engine, 4, age_seconds=7200)
        old = utcnow() - timedelta(hours=2)
        recent = utcnow() - timedelta(seconds=5)
        with migrated_engine.begin() as conn:
            for event_id, status, started, updated in (
                (died, "processing", old, old),
                (busy, "processing", recent, recent),
                (lost, "queued", None, old),
                (waiting, "queued", None, recent),
            ):
                conn.execute(
                    update(EVENTS)
                    .where(EVENTS.c.id == event_id)
                    .values(status=status, started_at=started, updated_at=updated)
                )
        broker = build_broker(make_settings(database_url, redis_url))
        found = requeue_stalled(
            migrated_engine,
            partial(enqueue_events, broker),
            lease_seconds=600,
            stuck_after_seconds=3600,
            limit=100,
        )
        assert found == 2
        assert sorted(enqueued_event_ids(redis_url)) == sorted([died, lost])
        after = {e["id"]: e["status"] for e in events(migrated_engine)}
        assert after[died] == "queued"
        assert after[busy] == "processing"
