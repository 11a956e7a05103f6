"""Group commit: many concurrent deliveries made durable by one transaction, then enqueued.

Requests hand their delivery to `submit` and wait. One loop takes whatever has arrived,
writes it in a single transaction on a database thread, and only then wakes the waiting
requests, so nothing is acknowledged before it is durable. While a batch commits the next
one gathers, so the batch size follows the load by itself (`concurrency` batches may commit
at once, for PostgreSQL). Created events are then enqueued in one round trip on a separate
thread, and marked `queued` in the next transaction. If Redis is down the events stay
`received` and the sweeper enqueues them later.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

import structlog

from config.errors import BrokerUnavailable, StorageUnavailable
from records.event_store import EventStore, Incoming, Outcome
from records.events import EventStatus

log = structlog.get_logger(__name__)

Enqueue = Callable[[Sequence[str]], None]
_FLUSH = None  # a queue item that only asks the loop to write pending `queued` marks


class GroupCommitter:
    """Batches deliveries into shared transactions; see the module docstring."""

    def __init__(
        self,
        store: EventStore,
        enqueue: Enqueue,
        *,
        max_batch: int = 256,
        on_enqueue_failure: Callable[[int], None] | None = None,
        concurrency: int = 1,
    ) -> None:
        self._store = store
        self._enqueue = enqueue
        self._max_batch = max_batch
        self._on_enqueue_failure = on_enqueue_failure
        self._queue: asyncio.Queue[tuple[Incoming, asyncio.Future[Outcome]] | None] = (
            asyncio.Queue()
        )
        self._enqueued: list[str] = []
        # SQLite has one writer, so one transaction at a time; PostgreSQL takes several, and
        # with a round trip per statement, overlapping them is what keeps its batches full.
        self._db = ThreadPoolExecutor(concurrency, thread_name_prefix="voicehook-db")
        self._slots = asyncio.Semaphore(concurrency)
        self._writes: set[asyncio.Task[None]] = set()
        self._redis = ThreadPoolExecutor(1, thread_name_prefix="voicehook-enqueue")
        self._enqueue_tasks: set[asyncio.Task[None]] = set()
        self._loop_task: asyncio.Task[None] | None = None

    async def submit(self, incoming: Incoming) -> Outcome:
        """Wait until `incoming` is committed; raises StorageUnavailable if it could not be."""
        future: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((incoming, future))
        return await future

    def start(self) -> None:
        self._loop_task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        """Finish what was submitted and enqueued, write the last marks, release threads."""
        await self._queue.join()
        if self._enqueue_tasks:
            await asyncio.gather(*self._enqueue_tasks, return_exceptions=True)
        await self._queue.join()  # the flush those enqueues may have asked for
        if self._loop_task is not None:
            self._loop_task.cancel()
            await asyncio.gather(self._loop_task, return_exceptions=True)
        if self._enqueued:
            await self._write([])
        self._db.shutdown(wait=True)
        self._redis.shutdown(wait=True)

    async def _run(self) -> None:
        while True:
            first = await self._queue.get()
            items = [first]
            while len(items) < self._max_batch and not self._queue.empty():
                items.append(self._queue.get_nowait())
            batch = [item for item in items if item is not None]
            await self._slots.acquire()
            task = asyncio.get_running_loop().create_task(self._write_and_release(batch, items))
            self._writes.add(task)
            task.add_done_callback(self._writes.discard)

    async def _write_and_release(
        self,
        batch: list[tuple[Incoming, asyncio.Future[Outcome]]],
        items: list[tuple[Incoming, asyncio.Future[Outcome]] | None],
    ) -> None:
        try:
            await self._write(batch)
        finally:
            self._slots.release()
            for _ in items:
                self._queue.task_done()

    async def _write(self, batch: list[tuple[Incoming, asyncio.Future[Outcome]]]) -> None:
        enqueued, self._enqueued = self._enqueued, []
        if not batch and not enqueued:
            return  # a flush whose marks an earlier write already took
        loop = asyncio.get_running_loop()
        try:
            outcomes = await loop.run_in_executor(
                self._db, self._store.persist, [incoming for incoming, _ in batch], enqueued
            )
        except Exception as exc:  # every waiting request must hear of it
            log.error("ingest.commit_failed", deliveries=len(batch), error=str(exc))
            failure = exc if isinstance(exc, StorageUnavailable) else StorageUnavailable(str(exc))
            self._enqueued = enqueued + self._enqueued
            for _, future in batch:
                if not future.done():
                    future.set_exception(failure)
            return
        fresh = []
        for (_, future), outcome in zip(batch, outcomes, strict=True):
            if not future.done():
                future.set_result(outcome)
            if outcome.created and outcome.status == EventStatus.RECEIVED:
                fresh.append(outcome.event_id)
        if fresh:
            task = loop.create_task(self._enqueue_after_commit(fresh))
            self._enqueue_tasks.add(task)
            task.add_done_callback(self._enqueue_tasks.discard)

    async def _enqueue_after_commit(self, event_ids: list[str]) -> None:
        loop = asyncio.get_running_loop()
        try:
            await loop.run_in_executor(self._redis, self._enqueue, event_ids)
        except BrokerUnavailable as exc:
            log.warning("ingest.enqueue_failed", events=len(event_ids), error=str(exc))
            if self._on_enqueue_failure is not None:
                self._on_enqueue_failure(len(event_ids))
            return
        was_idle = not self._enqueued
        self._enqueued.extend(event_ids)
        if was_idle and self._queue.empty():
            self._queue.put_nowait(_FLUSH)
