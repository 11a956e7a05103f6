"""Group commit: one transaction for many deliveries, nothing answered before the commit."""

from __future__ import annotations

import asyncio
from functools import partial
from uuid import uuid4

import pytest
from sqlalchemy import Engine, text

from config.broker import build_broker, enqueue_events
from config.errors import StorageUnavailable
from receiver.ingest import GroupCommitter
from records.envelope import parse_event
from records.event_store import EventStore, Incoming, Outcome
from records.types import utcnow
from tests.conftest import make_settings
from tests.receiver.conftest import deliveries, enqueued_event_ids, envelope, events
from tests.services import RedisProcess, wait_for


def incoming(resource_id: str) -> Incoming:
    body = envelope(resource_id=resource_id)
    return Incoming(
        event_id=str(uuid4()),
        event=parse_event(body),
        body=body,
        headers={},
        remote_addr="127.0.0.1",
        secret_fingerprint="test",
        received_at=utcnow(),
    )


async def submit_all(committer: GroupCommitter, items: list[Incoming]) -> list[Outcome]:
    committer.start()
    try:
        return list(await asyncio.gather(*(committer.submit(item) for item in items)))
    finally:
        await committer.stop()


class TestGroupCommitter:
    def test_batch_with_duplicates_inside_it(
        self, migrated_engine: Engine, database_url: str, redis_url: str
    ) -> None:
        """Copies of one event in the same batch: the first creates it, the others duplicate."""
        broker = build_broker(make_settings(database_url, redis_url))
        committer = GroupCommitter(EventStore(migrated_engine), partial(enqueue_events, broker))
        items = [incoming("a"), incoming("b"), incoming("a"), incoming("a")]
        outcomes = asyncio.run(submit_all(committer, items))
        assert [o.created for o in outcomes] == [True, True, False, False]
        assert outcomes[0].event_id == outcomes[2].event_id == outcomes[3].event_id
        assert len(events(migrated_engine)) == 2
        assert len(deliveries(migrated_engine)) == 4
        assert sorted(enqueued_event_ids(redis_url)) == sorted(
            {outcomes[0].event_id, outcomes[1].event_id}
        )
        assert {e["status"] for e in events(migrated_engine)} == {"queued"}

    def test_storage_failure_fails_every_waiting_delivery(
        self, migrated_engine: Engine, database_url: str, redis_url: str
    ) -> None:
        """When the transaction fails, every submitter hears StorageUnavailable."""
        broker = build_broker(make_settings(database_url, redis_url))
        committer = GroupCommitter(EventStore(migrated_engine), partial(enqueue_events, broker))
        with migrated_engine.begin() as conn:
            conn.execute(text("DROP TABLE deliveries"))
        with pytest.raises(StorageUnavailable):
            asyncio.run(submit_all(committer, [incoming("a"), incoming("b")]))
        assert events(migrated_engine) == []

    def test_broker_failure_keeps_events_received(
        self, migrated_engine: Engine, database_url: str, private_redis: RedisProcess
    ) -> None:
        """A failed enqueue is reported and leaves the committed events for the sweeper."""
        broker = build_broker(make_settings(database_url, private_redis.url))
        private_redis.stop()
        failures: list[int] = []
        committer = GroupCommitter(
            EventStore(migrated_engine),
            partial(enqueue_events, broker),
            on_enqueue_failure=failures.append,
        )
        outcomes = asyncio.run(submit_all(committer, [incoming("a"), incoming("b")]))
        assert all(o.created for o in outcomes)
        assert failures == [2]
        assert {e["status"] for e in events(migrated_engine)} == {"received"}

    def test_many_concurrent_submissions_share_transactions(
        self, migrated_engine: Engine, database_url: str, redis_url: str
    ) -> None:
        """500 concurrent submissions all commit and are all enqueued, in far fewer batches."""
        broker = build_broker(make_settings(database_url, redis_url))
        store = EventStore(migrated_engine)
        transactions = 0
        persist = store.persist

        def counting_persist(*args: object) -> list[Outcome]:
            nonlocal transactions
            transactions += 1
            return persist(*args)  # type: ignore[arg-type]

        store.persist = counting_persist  # type: ignore[method-assign,assignment]
        committer = GroupCommitter(store, partial(enqueue_events, broker), max_batch=128)
        outcomes = asyncio.run(submit_all(committer, [incoming(str(n)) for n in range(500)]))
        assert all(o.created for o in outcomes)
        assert len(events(migrated_engine)) == 500
        wait_for(lambda: len(enqueued_event_ids(redis_url)) == 500)
        assert transactions < 50
