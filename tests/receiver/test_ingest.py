"""Group commit through real writer processes: one transaction for many deliveries, nothing
answered before the commit, and a writer that dies or hangs costs only its own batch."""

from __future__ import annotations

import asyncio
import fcntl
import os
import signal
import struct
import termios
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TypeVar

import pytest
from sqlalchemy import Engine, text

from config.database import write_options
from config.errors import StorageUnavailable
from config.settings import Settings
from receiver.group_commit import GroupCommitter
from receiver.writer_pool import WriterPool, WriterProcess
from records.event_store import Incoming, Outcome
from tests.conftest import make_settings
from tests.receiver.conftest import deliveries, enqueued_event_ids, events, incoming
from tests.waiting import wait_until_async
from voicehook.redis_server import RedisServer

T = TypeVar("T")


class Ingest:
    """A started group commit over one writer process, and what it reported."""

    def __init__(self, settings: Settings, commit_timeout: float | None = None) -> None:
        self.enqueue_failures: list[int] = []
        self.restarts = 0
        self.pool = WriterPool(
            settings,
            size=1,
            on_enqueue_failure=self.enqueue_failures.append,
            on_restart=self._restarted,
            commit_timeout=commit_timeout,
        )
        self.committer = GroupCommitter(self.pool, max_batch=128)

    def _restarted(self) -> None:
        self.restarts += 1

    async def submit_all(self, items: Sequence[Incoming]) -> list[Outcome]:
        return list(await asyncio.gather(*(self.committer.submit(item) for item in items)))

    async def writer_pid(self) -> int:
        """The pid of the running writer, once there is one."""
        writer = await wait_until_async(
            lambda: self.pool.writers[0] if self.pool.writers else None,
            description="a writer process runs",
        )
        return writer.pid


def run(settings: Settings, body: Callable[[Ingest], Awaitable[T]], **options: float) -> T:
    """Start an Ingest, run `body` with it, and stop it (answering and draining everything)."""

    async def main() -> T:
        ingest = Ingest(settings, **options)
        await ingest.committer.start()
        try:
            return await body(ingest)
        finally:
            await ingest.committer.stop()

    return asyncio.run(main())


def unread_by(writer: WriterProcess) -> int:
    """Bytes sent to `writer` that it has not read yet (SIOCOUTQ on our end of the socket)."""
    transport = writer._transport  # the test looks inside: nothing else needs this
    assert transport is not None
    fileno = transport.get_extra_info("socket").fileno()
    answer = fcntl.ioctl(fileno, termios.TIOCOUTQ, bytes(4))
    return int(struct.unpack("i", answer)[0])


@contextmanager
def write_lock(engine: Engine) -> Iterator[None]:
    """Hold the lock a writer needs to insert events, until the block ends."""
    with engine.connect().execution_options(**write_options()) as conn:
        conn.begin()  # BEGIN IMMEDIATE on SQLite: the database's write lock
        if engine.dialect.name == "postgresql":
            conn.execute(text("LOCK TABLE events IN ACCESS EXCLUSIVE MODE"))
        try:
            yield
        finally:
            conn.rollback()


class TestGroupCommitter:
    def test_batch_with_duplicates_inside_it(
        self, migrated_engine: Engine, database_url: str, redis_url: str
    ) -> None:
        """Copies of one event in the same batch: the first creates it, the others duplicate."""
        items = [incoming("a"), incoming("b"), incoming("a"), incoming("a")]
        outcomes = run(make_settings(database_url, redis_url), lambda i: i.submit_all(items))
        assert [o.created for o in outcomes] == [True, True, False, False]
        assert outcomes[0].event_id == outcomes[2].event_id == outcomes[3].event_id
        assert len(events(migrated_engine)) == 2
        assert len(deliveries(migrated_engine)) == 4
        assert sorted(enqueued_event_ids(redis_url)) == sorted(
            {outcomes[0].event_id, outcomes[1].event_id}
        )
        assert {e["status"] for e in events(migrated_engine)} == {"queued"}

    def test_many_concurrent_submissions_share_transactions(
        self, migrated_engine: Engine, database_url: str, redis_url: str
    ) -> None:
        """500 concurrent submissions all commit and are all enqueued, in far fewer commits."""
        items = [incoming(str(n)) for n in range(500)]

        async def body(ingest: Ingest) -> tuple[list[Outcome], int]:
            outcomes = await ingest.submit_all(items)
            return outcomes, ingest.pool.writers[0].commits

        outcomes, commits = run(make_settings(database_url, redis_url), body)
        assert all(o.created for o in outcomes)
        assert len(events(migrated_engine)) == 500
        assert len(enqueued_event_ids(redis_url)) == 500
        assert commits < 50

    def test_storage_failure_fails_every_waiting_delivery(
        self, migrated_engine: Engine, database_url: str, redis_url: str
    ) -> None:
        """When the transaction fails, every submitter hears StorageUnavailable."""
        with migrated_engine.begin() as conn:
            conn.execute(text("DROP TABLE deliveries"))
        with pytest.raises(StorageUnavailable):
            run(
                make_settings(database_url, redis_url),
                lambda i: i.submit_all([incoming("a"), incoming("b")]),
            )
        assert events(migrated_engine) == []

    def test_broker_failure_keeps_events_received(
        self, migrated_engine: Engine, database_url: str, private_redis: RedisServer
    ) -> None:
        """A failed enqueue is reported and leaves the committed events for the sweeper."""

        async def body(ingest: Ingest) -> list[Outcome]:
            private_redis.stop()
            outcomes = await ingest.submit_all([incoming("a"), incoming("b")])
            await wait_until_async(lambda: ingest.enqueue_failures == [2])
            return outcomes

        outcomes = run(make_settings(database_url, private_redis.url), body)
        assert all(o.created for o in outcomes)
        assert {e["status"] for e in events(migrated_engine)} == {"received"}


class TestWriterFailures:
    def test_killed_writer_fails_its_batch_and_is_replaced(
        self, migrated_engine: Engine, database_url: str, redis_url: str
    ) -> None:
        """SIGKILL mid-commit: that batch gets 503s and left nothing; a new writer takes over."""

        async def body(ingest: Ingest) -> tuple[Outcome, int, int]:
            first_pid = await ingest.writer_pid()
            with write_lock(migrated_engine):
                stuck = asyncio.ensure_future(ingest.submit_all([incoming("a"), incoming("b")]))
                writer = ingest.pool.writers[0]
                # Sent, and read by the writer: it is in the transaction the lock holds up.
                await wait_until_async(lambda: writer.in_flight == 1 and unread_by(writer) == 0)
                os.kill(first_pid, signal.SIGKILL)
                with pytest.raises(StorageUnavailable):
                    await stuck
            [outcome] = await ingest.submit_all([incoming("c")])
            return outcome, first_pid, await ingest.writer_pid()

        outcome, first_pid, second_pid = run(
            make_settings(database_url, redis_url, database_timeout_seconds=10), body
        )
        assert outcome.created
        assert second_pid != first_pid
        assert [e["resource_id"] for e in events(migrated_engine)] == ["c"]
        assert len(deliveries(migrated_engine)) == 1

    def test_hung_writer_times_out_and_is_replaced(
        self, migrated_engine: Engine, database_url: str, redis_url: str
    ) -> None:
        """A writer that stops answering fails its batch after the commit timeout, then is
        killed and replaced; the restart is counted."""

        async def body(ingest: Ingest) -> tuple[int, Outcome]:
            os.kill(await ingest.writer_pid(), signal.SIGSTOP)
            with pytest.raises(StorageUnavailable, match="did not answer"):
                await ingest.submit_all([incoming("a")])
            # The hang was seen. A replacement may take longer than a second to start and
            # commit on a loaded machine: from now on, time out as production would.
            ingest.pool.commit_timeout = 60.0
            [outcome] = await ingest.submit_all([incoming("b")])
            return ingest.restarts, outcome

        restarts, outcome = run(make_settings(database_url, redis_url), body, commit_timeout=1.0)
        assert restarts == 1
        assert outcome.created
        assert "b" in [e["resource_id"] for e in events(migrated_engine)]

    def test_writer_that_cannot_start_stops_the_start(self, sqlite_url: str) -> None:
        """No writer, no receiver: a writer that exits before it is ready fails the start."""
        settings = make_settings(sqlite_url, None)  # no REDIS_URL: the writer refuses to run

        async def main() -> None:
            pool = WriterPool(settings, size=1, on_enqueue_failure=lambda _: None)
            await GroupCommitter(pool).start()

        with pytest.raises(StorageUnavailable, match="did not start"):
            asyncio.run(main())
