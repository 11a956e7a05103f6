"""The writer process: commits batches of deliveries, answers, then enqueues the new events.

The receiver starts one or more of these (`receiver.writer_pool`) so that the database and
broker work runs on a core of its own instead of taking turns with the event loop for the
GIL. A writer takes every batch waiting on its socket, makes them durable in one
transaction and answers with the outcomes: the receiver sends batches as they form, so the
writer is never idle while work waits, and the longer a commit takes, the more the next one
carries. It enqueues the events its batches created in one Redis round trip as soon as no
batch is waiting, or at the latest `ENQUEUE_WITHIN_SECONDS` after their commit; they are
marked `queued` by the next transaction, or after `MARK_AFTER_SECONDS` without one. If
Redis refuses, the events stay `received` for the sweeper and the receiver is told, for its
metrics.

It exits when the receiver closes the socket. It ignores SIGINT and SIGTERM: a terminal's
Ctrl-C and a platform's shutdown signal reach the whole process group, and the receiver must
be able to drain its in-flight requests through its writer before the writer goes.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from functools import partial

import structlog

from config.broker import EnqueueTraced, build_broker, enqueue_events
from config.database import make_engine
from config.errors import BrokerUnavailable, StorageUnavailable
from config.logging import configure_logging
from config.settings import Settings
from receiver.errors import UnexpectedMessage, WriterGone
from receiver.writer_protocol import (
    Committed,
    EnqueueFailed,
    Failed,
    Ready,
    TracedBatch,
    outcomes_to_wire,
    receive,
    send,
)
from records.errors import UnstorableRows
from records.event_store import UNSTORABLE, EventStore, IncomingRow, Outcome
from records.events import EventStatus

log = structlog.get_logger(__name__)

# While batches come back to back, new events wait up to this long for later commits to
# share their enqueue (one Redis round trip for several); otherwise they go at once.
ENQUEUE_WITHIN_SECONDS = 0.005
# How long enqueued ids wait for a batch to share its transaction before they get one of
# their own. A mark is bookkeeping (an event left `received` is only enqueued again by the
# sweeper, after SWEEPER_MIN_AGE_SECONDS, and claimed once), but a transaction of its own is
# a durable commit holding the write lock: at 20 events/s, 20 ms gave every event one more
# commit than its delivery, on SQLite in turn with every worker's claim and completion.
MARK_AFTER_SECONDS = 1.0
MAX_DELIVERIES_PER_COMMIT = 1024  # batches waiting together share a commit, up to this many


class BatchWriter:
    """The writer's work, apart from its socket: commit batches, enqueue what they created."""

    def __init__(
        self, store: EventStore, enqueue: EnqueueTraced, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._store = store
        self._enqueue = enqueue
        self._clock = clock
        self.unenqueued: list[str] = []  # committed, not yet enqueued
        self._traces: dict[str, str] = {}  # of those, the traces their messages continue
        self._enqueue_by = 0.0
        self.unmarked: list[str] = []  # enqueued, not yet marked `queued`

    def commit(
        self, batches: Sequence[Sequence[IncomingRow]], traces: Mapping[str, str] | None = None
    ) -> Committed | Failed:
        """Store the batches, and mark what was enqueued since the last commit, all or nothing.

        `traces` maps a delivery's event id to its request's `traceparent` (traces on)."""
        deliveries = [row for batch in batches for row in batch]
        try:
            outcomes = self._store.persist_rows(deliveries, self.unmarked)
            self.unmarked = []
        except UnstorableRows as exc:
            if len(deliveries) == 1:
                return self._failed(batches, exc)
            try:
                outcomes = self._one_by_one(deliveries)
            except Exception as again:  # every waiting request must hear of it
                return self._failed(batches, again)
        except Exception as exc:  # every waiting request must hear of it, whatever it was
            return self._failed(batches, exc)
        fresh = [o.event_id for o in outcomes if o.created and o.status == EventStatus.RECEIVED]
        if fresh and not self.unenqueued:
            self._enqueue_by = self._clock() + ENQUEUE_WITHIN_SECONDS
        self.unenqueued.extend(fresh)
        if traces:
            self._traces.update((i, traces[i]) for i in fresh if i in traces)
        return Committed(len(batches), outcomes_to_wire(outcomes))

    def _one_by_one(self, deliveries: list[IncomingRow]) -> list[Outcome]:
        """Store each delivery in a transaction of its own, so that only a delivery the
        database refuses fails (its outcome is UNSTORABLE); an outage still fails them all."""
        outcomes: list[Outcome] = []
        for row in deliveries:
            try:
                outcomes.extend(self._store.persist_rows([row]))
            except UnstorableRows as exc:
                log.error("ingest.delivery_unstorable", event_type=row[1][:100], error=str(exc))
                outcomes.append(Outcome(row[0], False, UNSTORABLE))
        return outcomes

    @staticmethod
    def _failed(batches: Sequence[Sequence[IncomingRow]], exc: BaseException) -> Failed:
        deliveries = sum(len(batch) for batch in batches)
        log.error("ingest.commit_failed", deliveries=deliveries, error=str(exc))
        error = str(exc) if isinstance(exc, StorageUnavailable) else repr(exc)
        return Failed(len(batches), error)

    def wait_time(self) -> float | None:
        """How long to wait for the next batch before there is work of our own (None: none).

        Events to enqueue do not wait: if no batch is already waiting they go at once, and
        they wait for later commits (up to ENQUEUE_WITHIN_SECONDS) only while batches keep
        coming back to back. (Always waiting, to share more round trips, made the ingest
        bench slower, 0.55 against 0.60: an idle writer's time is free, a busy one's is on
        every request's path.)
        """
        if self.unenqueued:
            return 0.0
        if self.unmarked:
            return MARK_AFTER_SECONDS
        return None

    def enqueue_if_due(self) -> int:
        if self.unenqueued and self._clock() >= self._enqueue_by:
            return self.enqueue()
        return 0

    def enqueue(self) -> int:
        """Enqueue every committed event not yet enqueued; how many the broker refused."""
        fresh, self.unenqueued = self.unenqueued, []
        traces, self._traces = self._traces, {}
        if not fresh:
            return 0
        try:
            self._enqueue(fresh, traces or None)
        except BrokerUnavailable as exc:
            # They stay `received`; the sweeper enqueues them once the broker is back.
            log.warning("ingest.enqueue_failed", events=len(fresh), error=str(exc))
            return len(fresh)
        self.unmarked.extend(fresh)
        return 0

    def catch_up(self) -> int:
        """No batch came: enqueue what waits to be, else write the marks; how many refused."""
        if self.unenqueued:
            return self.enqueue()
        self.mark_queued()
        return 0

    def mark_queued(self) -> None:
        """Mark enqueued events `queued` in a transaction of their own (kept for later on error)."""
        if not self.unmarked:
            return
        try:
            self._store.mark_queued(self.unmarked)
        except StorageUnavailable as exc:
            log.warning("ingest.mark_failed", events=len(self.unmarked), error=str(exc))
            return
        self.unmarked = []


def serve(sock: socket.socket, writer: BatchWriter) -> None:
    """Answer batches until the receiver closes the socket, then enqueue and mark the rest."""
    try:
        while True:
            message = receive(sock, writer.wait_time())
            if message is None:
                refused = writer.catch_up()
            else:
                send(sock, writer.commit(*_waiting_batches(sock, message)))
                refused = writer.enqueue_if_due()
            if refused:
                send(sock, EnqueueFailed(refused))
    except (WriterGone, BrokenPipeError, ConnectionResetError):
        pass
    writer.enqueue()
    writer.mark_queued()


def _waiting_batches(
    sock: socket.socket, first: object
) -> tuple[list[list[IncomingRow]], dict[str, str]]:
    """`first` and the batches already waiting behind it, up to one transaction's worth,
    with the traces they carry."""
    traces: dict[str, str] = {}
    batches = [_batch(first, traces)]
    count = len(batches[0])
    while count < MAX_DELIVERIES_PER_COMMIT and (message := receive(sock, 0)) is not None:
        batch = _batch(message, traces)
        batches.append(batch)
        count += len(batch)
    return batches, traces


def _batch(message: object, traces: dict[str, str]) -> list[IncomingRow]:
    if isinstance(message, TracedBatch):
        traces.update(message.traces)
        return message.rows
    if not isinstance(message, list):
        raise UnexpectedMessage(f"expected a batch, got {type(message).__name__}")
    return message


def run(sock: socket.socket) -> None:
    """Read the settings, build the store and broker, say ready, and serve."""
    settings = receive(sock)
    if not isinstance(settings, Settings):
        raise UnexpectedMessage(f"expected Settings, got {type(settings).__name__}")
    configure_logging(settings)
    engine = make_engine(settings, pool_size=1)
    broker = build_broker(settings)
    try:
        send(sock, Ready(os.getpid()))
        store = EventStore(engine, keep_connection=True)
        try:
            serve(sock, BatchWriter(store, partial(enqueue_events, broker)))
        finally:
            store.close()
    finally:
        broker.client.close()
        engine.dispose()


def main(argv: Sequence[str] = sys.argv[1:]) -> None:
    """`python -m receiver.writer FD`: serve the receiver on the inherited socket FD."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    # WriterGone here: the receiver went away before we were ready.
    with socket.socket(fileno=int(argv[0])) as sock, contextlib.suppress(WriterGone):
        run(sock)


if __name__ == "__main__":
    main()
