"""The writer process's work, in-process: commit batches, enqueue later, mark queued."""

from __future__ import annotations

from functools import partial

from sqlalchemy import Engine, text

from config.broker import build_broker, enqueue_events
from receiver.writer import ENQUEUE_WITHIN_SECONDS, BatchWriter
from receiver.writer_protocol import Committed, Failed
from records.event_store import EventStore
from tests.conftest import make_settings
from tests.receiver.conftest import enqueued_event_ids, events, incoming
from voicehook.redis_server import RedisServer


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def batch_writer(
    engine: Engine, database_url: str, redis_url: str, clock: FakeClock
) -> BatchWriter:
    broker = build_broker(make_settings(database_url, redis_url))
    return BatchWriter(EventStore(engine), partial(enqueue_events, broker), clock)


class TestBatchWriter:
    def test_batches_waiting_together_share_one_commit(
        self, migrated_engine: Engine, database_url: str, redis_url: str
    ) -> None:
        """Two batches, one delivery repeated across them: one answer for both, in order."""
        writer = batch_writer(migrated_engine, database_url, redis_url, FakeClock())
        first, again = incoming("a"), incoming("a")
        answer = writer.commit([[first.row(), incoming("b").row()], [again.row()]])
        assert isinstance(answer, Committed)
        assert answer.batches == 2
        assert [created for _, created, _ in answer.outcomes] == [True, True, False]
        assert answer.outcomes[2][0] == first.event_id
        assert len(events(migrated_engine)) == 2

    def test_enqueue_waits_for_later_commits_until_due(
        self, migrated_engine: Engine, database_url: str, redis_url: str
    ) -> None:
        """Back-to-back batches: new events are enqueued together once due, then marked by
        the next commit; the writer never waits for a batch while events are unenqueued."""
        clock = FakeClock()
        writer = batch_writer(migrated_engine, database_url, redis_url, clock)
        writer.commit([[incoming("a").row()]])
        assert writer.wait_time() == 0.0  # if no batch is already waiting, enqueue now
        clock.now += ENQUEUE_WITHIN_SECONDS / 2
        writer.commit([[incoming("b").row()]])
        assert writer.enqueue_if_due() == 0
        assert enqueued_event_ids(redis_url) == []
        clock.now += ENQUEUE_WITHIN_SECONDS
        assert writer.enqueue_if_due() == 0
        assert len(enqueued_event_ids(redis_url)) == 2
        assert {e["status"] for e in events(migrated_engine)} == {"received"}
        writer.commit([[incoming("c").row()]])
        statuses = {e["resource_id"]: e["status"] for e in events(migrated_engine)}
        assert statuses == {"a": "queued", "b": "queued", "c": "received"}

    def test_catch_up_enqueues_at_once_then_marks(
        self, migrated_engine: Engine, database_url: str, redis_url: str
    ) -> None:
        """When no batch comes, committed events are enqueued, then marked on the next quiet."""
        writer = batch_writer(migrated_engine, database_url, redis_url, FakeClock())
        answer = writer.commit([[incoming("a").row(), incoming("x", event="future.event").row()]])
        assert isinstance(answer, Committed)
        assert writer.catch_up() == 0
        assert enqueued_event_ids(redis_url) == [answer.outcomes[0][0]]  # not the ignored one
        assert writer.wait_time() is not None
        assert writer.catch_up() == 0
        assert writer.wait_time() is None
        statuses = {e["resource_id"]: e["status"] for e in events(migrated_engine)}
        assert statuses == {"a": "queued", "x": "ignored"}

    def test_broker_down_leaves_events_received_and_counts_them(
        self, migrated_engine: Engine, database_url: str, private_redis: RedisServer
    ) -> None:
        """A refused enqueue is reported and leaves the committed events for the sweeper."""
        writer = batch_writer(migrated_engine, database_url, private_redis.url, FakeClock())
        private_redis.stop()
        writer.commit([[incoming("a").row(), incoming("b").row()]])
        assert writer.catch_up() == 2
        assert writer.wait_time() is None  # nothing left to mark
        assert {e["status"] for e in events(migrated_engine)} == {"received"}

    def test_failed_commit_answers_failed_and_keeps_its_marks(
        self, migrated_engine: Engine, database_url: str, redis_url: str
    ) -> None:
        """A failed transaction stores nothing, and the marks it carried wait for the next."""
        writer = batch_writer(migrated_engine, database_url, redis_url, FakeClock())
        writer.commit([[incoming("a").row()]])
        writer.catch_up()  # enqueued, not yet marked
        with migrated_engine.begin() as conn:
            conn.execute(text("DROP TABLE deliveries"))
        answer = writer.commit([[incoming("b").row()], [incoming("c").row()]])
        assert isinstance(answer, Failed)
        assert answer.batches == 2
        assert [e["resource_id"] for e in events(migrated_engine)] == ["a"]
        assert events(migrated_engine)[0]["status"] == "received"
        assert writer.wait_time() is not None  # the mark is still owed
