"""Group commit on a thread of this process: the writer's work without a writer process.

The `BatchWriter` a writer process runs (`receiver.writer`: the `EventStore` transaction,
then the enqueue and the `queued` marks) runs here on one thread. What is submitted during
one pass of the event loop goes as one batch, and while a batch commits the next one
gathers. Nothing is answered before its commit; new events are enqueued and marked right
after their batch is answered. It serves the app run in process (tests, tools); production
uses writer processes (`receiver.group_commit`), because work on a thread takes turns with
the event loop for the GIL.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import partial

import structlog
from sqlalchemy import Engine

from config.broker import EnqueueTraced
from config.errors import StorageUnavailable
from receiver.pending import Pending, PendingDeliveries
from receiver.writer import BatchWriter
from receiver.writer_protocol import Failed, outcomes_from_wire
from records.event_store import EventStore, Incoming, IncomingRow, Outcome

log = structlog.get_logger(__name__)


class InlineCommitter:
    """A `receiver.committer.Committer` that commits on a thread; see the module docstring."""

    def __init__(
        self,
        engine: Engine,
        enqueue: EnqueueTraced,
        *,
        on_enqueue_failure: Callable[[int], None] = lambda _: None,
        max_batch: int = 256,
    ) -> None:
        self._writer = BatchWriter(EventStore(engine), enqueue)
        self._on_enqueue_failure = on_enqueue_failure
        self._max_batch = max_batch
        self._pending = PendingDeliveries(self._dispatch)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: ThreadPoolExecutor | None = None

    async def submit(self, incoming: Incoming) -> Outcome:
        """Wait until `incoming` is committed; raises StorageUnavailable if it could not be."""
        if self._thread is None:
            raise StorageUnavailable("the inline commit has not started")
        return await self._pending.outcome_of(incoming)

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._pending.start(self._loop)
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="inline-commit")

    async def stop(self) -> None:
        """Answer everything submitted, enqueue and mark what it created, stop the thread."""
        await self._pending.drained()
        thread, self._thread = self._thread, None
        if thread is None or self._loop is None:
            return
        await self._loop.run_in_executor(thread, self._enqueue_and_mark)
        thread.shutdown()

    @property
    def ready(self) -> bool:
        return self._thread is not None

    def _dispatch(self) -> None:
        """Send the waiting deliveries to the thread, unless a batch is committing there."""
        if self._pending.in_flight or not self._pending.waiting:
            return
        if self._loop is None or self._thread is None:
            return
        batch = self._pending.take(self._max_batch)
        rows = [incoming.row() for incoming, _ in batch]
        traces = {incoming.event_id: incoming.trace for incoming, _ in batch if incoming.trace}
        commit = self._loop.run_in_executor(self._thread, self._commit, rows, traces)
        commit.add_done_callback(partial(self._answered, batch))

    def _commit(
        self, rows: Sequence[IncomingRow], traces: dict[str, str]
    ) -> list[Outcome] | StorageUnavailable:
        # The writer stores the batch, or, if the database refuses its data, each delivery
        # on its own, so that only the guilty one fails (as in a writer process).
        answer = self._writer.commit([rows], traces)
        if isinstance(answer, Failed):
            return StorageUnavailable(answer.error)
        return outcomes_from_wire(answer.outcomes)

    def _answered(
        self, batch: list[Pending], done: asyncio.Future[list[Outcome] | StorageUnavailable]
    ) -> None:
        answer = done.result()
        self._pending.settle(batch, answer)
        if not isinstance(answer, StorageUnavailable) and self._loop and self._thread:
            enqueue = self._loop.run_in_executor(self._thread, self._enqueue_and_mark)
            enqueue.add_done_callback(self._enqueued)
        self._dispatch()

    def _enqueue_and_mark(self) -> int:
        """Enqueue what the last commits created and mark it queued; how many were refused."""
        refused = self._writer.enqueue()
        self._writer.mark_queued()
        return refused

    def _enqueued(self, done: asyncio.Future[int]) -> None:
        if done.cancelled():
            return
        if (error := done.exception()) is not None:
            log.error("ingest.enqueue_failed", error=repr(error))
        elif refused := done.result():
            self._on_enqueue_failure(refused)
