"""Deliveries handed to a committer and the requests waiting on them: what both committers
(`receiver.group_commit`, `receiver.inline_commit`) share.

A request's delivery waits here until its committer takes it into a batch; the request is
woken only when that batch's answer comes back (`settle`), with its own outcome or with the
failure of the whole batch. What is submitted during one pass of the event loop goes out
together at the end of the pass (or at once, when `send_at` wait), so a batch holds every
request parsed in that pass.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence

from config.errors import StorageUnavailable
from records.event_store import Incoming, Outcome

MAX_BATCH_BYTES = 8 * 1024 * 1024  # keeps one message to a writer, and its transaction, modest

Pending = tuple[Incoming, asyncio.Future[Outcome]]


class PendingDeliveries:
    """Submitted deliveries, waiting (`waiting`) or taken into batches not yet answered."""

    def __init__(self, dispatch: Callable[[], None], *, send_at: int | None = None) -> None:
        self._dispatch = dispatch
        self._send_at = send_at
        self.waiting: list[Pending] = []
        self._in_flight = 0  # batches taken and not yet settled
        self._dispatch_soon = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._drained = asyncio.Event()
        self._drained.set()

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop

    async def outcome_of(self, incoming: Incoming) -> Outcome:
        """Wait until `incoming` is committed; StorageUnavailable if it could not be."""
        loop = self._loop
        if loop is None:
            raise StorageUnavailable("the committer has not started")
        future: asyncio.Future[Outcome] = loop.create_future()
        self.waiting.append((incoming, future))
        self._drained.clear()
        if self._send_at is not None and len(self.waiting) >= self._send_at:
            self._dispatch()
        elif not self._dispatch_soon:
            # At the latest at the end of this loop pass, with every request parsed in it.
            self._dispatch_soon = True
            loop.call_soon(self._dispatch_now)
        return await future

    @property
    def in_flight(self) -> int:
        return self._in_flight

    def take(self, max_count: int) -> list[Pending]:
        """The oldest waiting deliveries, at most `max_count` and MAX_BATCH_BYTES (but one)."""
        count = size = 0
        for incoming, _ in self.waiting:
            if count == max_count or (count and size + len(incoming.body) > MAX_BATCH_BYTES):
                break
            count += 1
            size += len(incoming.body)
        batch, self.waiting = self.waiting[:count], self.waiting[count:]
        self._in_flight += 1
        return batch

    def settle(self, batch: Sequence[Pending], answer: Sequence[Outcome] | Exception) -> None:
        """Wake the requests of a taken batch: each with its outcome, or all with the error."""
        self._in_flight -= 1
        if isinstance(answer, Exception):
            for _, future in batch:
                if not future.done():
                    future.set_exception(answer)
        else:
            for (_, future), outcome in zip(batch, answer, strict=True):
                if not future.done():
                    future.set_result(outcome)
        self._note_drained()

    def fail_waiting(self, error: Exception) -> None:
        """Wake every request still waiting to be taken with `error`."""
        stalled, self.waiting = self.waiting, []
        for _, future in stalled:
            if not future.done():
                future.set_exception(error)
        self._note_drained()

    async def drained(self) -> None:
        """Return once every submitted delivery has been answered."""
        await self._drained.wait()

    def _dispatch_now(self) -> None:
        self._dispatch_soon = False
        self._dispatch()

    def _note_drained(self) -> None:
        if not self.waiting and not self._in_flight:
            self._drained.set()
