"""Group commit: many concurrent deliveries made durable by one transaction, then enqueued.

Requests hand their delivery to `submit` and wait. At the end of each pass of the event
loop, or as soon as `SEND_AT` wait, everything waiting goes as one batch to a writer process
(`receiver.writer_pool`), which commits all the batches waiting for it in one transaction.
Only when the writer says it committed are the waiting requests woken, so nothing is
acknowledged before it is durable. While one transaction commits the next one gathers, so
its size follows the load by itself. The writer enqueues the events each transaction
created after answering; if Redis is down they stay `received` and the sweeper enqueues them
later.
"""

from __future__ import annotations

import asyncio
from functools import partial

from config.errors import StorageUnavailable
from receiver.writer_pool import Answer, WriterPool
from records.event_store import Incoming, Outcome

MAX_BATCH_BYTES = 8 * 1024 * 1024  # keeps one message to a writer, and its transaction, modest
# A batch goes out as soon as this many deliveries wait, without waiting for the end of the
# loop pass: the writer starts on the first of a wave of requests while the rest are parsed.
# Each commit costs about 150 µs of CPU whatever its size (fsync, and a few B-tree pages per
# index), so too small a number buys overlap with commits that steal the loop's CPU: on 2
# cores the ingest bench's ratio was 0.55-0.57 at 8, 0.59-0.62 at 12 and 16, 0.53 at 24 and
# 0.50 at 32 (see README, "Where bench ingest stands").
SEND_AT = 16
WATCH_INTERVAL_SECONDS = 1.0

Pending = tuple[Incoming, asyncio.Future[Outcome]]


class GroupCommitter:
    """Batches deliveries into shared transactions; see the module docstring."""

    def __init__(self, writers: WriterPool, *, max_batch: int = 256) -> None:
        self._writers = writers
        self._max_batch = max_batch
        self._pending: list[Pending] = []
        self._stalled_since: float | None = None  # when deliveries last found no writer
        self._in_flight = 0
        self._dispatch_soon = False
        self._drained = asyncio.Event()
        self._drained.set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._watchdog: asyncio.Task[None] | None = None

    async def submit(self, incoming: Incoming) -> Outcome:
        """Wait until `incoming` is committed; raises StorageUnavailable if it could not be."""
        loop = self._loop
        if loop is None:
            raise StorageUnavailable("the group commit has not started")
        future: asyncio.Future[Outcome] = loop.create_future()
        self._pending.append((incoming, future))
        self._drained.clear()
        if len(self._pending) >= SEND_AT:
            self._dispatch()
        elif not self._dispatch_soon:
            # At the latest at the end of this loop pass, with every request parsed in it.
            self._dispatch_soon = True
            loop.call_soon(self._dispatch)
        return await future

    async def start(self) -> None:
        """Start the writer processes (StorageUnavailable if they cannot)."""
        self._loop = asyncio.get_running_loop()
        await self._writers.start(on_available=self._dispatch)
        self._watchdog = self._loop.create_task(self._fail_stalled())

    async def stop(self) -> None:
        """Answer everything submitted, then stop the writers (they enqueue and mark first)."""
        await self._drained.wait()
        if self._watchdog is not None:
            self._watchdog.cancel()
            await asyncio.gather(self._watchdog, return_exceptions=True)
        await self._writers.stop()

    @property
    def ready(self) -> bool:
        """True while at least one writer process runs."""
        return self._writers.alive > 0

    def _dispatch(self) -> None:
        """Send the waiting deliveries to the least loaded writer (they wait if none runs)."""
        self._dispatch_soon = False
        while self._pending and (writer := self._writers.least_loaded()) is not None:
            batch = self._take_batch()
            self._in_flight += 1
            writer.commit(
                [incoming for incoming, _ in batch],
                partial(self._answered, batch),
                self._writers.commit_timeout,
            )
        if not self._pending:
            self._stalled_since = None
        elif self._stalled_since is None and self._loop is not None:
            self._stalled_since = self._loop.time()

    def _take_batch(self) -> list[Pending]:
        """The oldest waiting deliveries, within the batch limits."""
        count = size = 0
        for incoming, _ in self._pending:
            if count == self._max_batch or (count and size + len(incoming.body) > MAX_BATCH_BYTES):
                break
            count += 1
            size += len(incoming.body)
        batch, self._pending = self._pending[:count], self._pending[count:]
        return batch

    def _answered(self, batch: list[Pending], answer: Answer) -> None:
        self._in_flight -= 1
        if isinstance(answer, StorageUnavailable):
            for _, future in batch:
                if not future.done():
                    future.set_exception(answer)
        else:
            for (_, future), outcome in zip(batch, answer, strict=True):
                if not future.done():
                    future.set_result(outcome)
        self._note_drained()

    def _note_drained(self) -> None:
        if not self._pending and not self._in_flight:
            self._drained.set()

    async def _fail_stalled(self) -> None:
        """Fail what waited the commit timeout for a writer (every writer down or starting)."""
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(WATCH_INTERVAL_SECONDS)
            since = self._stalled_since
            if since is None or loop.time() - since < self._writers.commit_timeout:
                continue
            stalled, self._pending, self._stalled_since = self._pending, [], None
            failure = StorageUnavailable("no writer process was available to commit")
            for _, future in stalled:
                if not future.done():
                    future.set_exception(failure)
            self._note_drained()
