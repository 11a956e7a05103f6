"""What a worker does with one event id: claim, route to its handler, settle. No Dramatiq here."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import structlog

from config.tracing import span
from processors.database_busy import postponed_when_busy
from processors.errors import DatabaseBusy, PermanentFailure, RetryLater
from processors.handlers import Settled
from processors.handlers.cloned import handle_voice_cloned
from processors.handlers.failed import handle_generation_failed
from processors.handlers.ready import handle_generation_ready
from processors.worker import ProcessorContext
from records.claims import Busy, ClaimedEvent, claim_event, hand_back, settle_event
from records.events import EventStatus

log = structlog.get_logger(__name__)

Handler = Callable[[ProcessorContext, ClaimedEvent], str | Settled]
Requeue = Callable[[float], None]

HANDLERS: Mapping[str, Handler] = {
    "generation.ready": handle_generation_ready,
    "generation.failed": handle_generation_failed,
    "voice.cloned": handle_voice_cloned,
}


def process_event(ctx: ProcessorContext, event_id: str, requeue: Requeue) -> None:
    """Process one event exactly as far as it still needs; safe to call any number of times.

    `RetryLater` hands the event back and asks `requeue` for a delayed message;
    `PermanentFailure` settles it as failed with the reason; a database that cannot serve
    right now (`processors.database_busy`) is a `RetryLater` too; anything else is
    unexpected: the event is handed back and the exception propagates so the broker retries
    with backoff.
    """
    with structlog.contextvars.bound_contextvars(event_id=event_id):
        try:
            with postponed_when_busy():
                _process(ctx, event_id, requeue)
        except DatabaseBusy as exc:
            _postpone(ctx, event_id, exc, requeue)


def _process(ctx: ProcessorContext, event_id: str, requeue: Requeue) -> None:
    with span("event.claim", **{"voicehook.event_id": event_id}):
        event = claim_event(ctx.engine, event_id, ctx.event_lease_seconds)
    if event is None:
        log.info("event.skipped", reason="settled")
        return
    if isinstance(event, Busy):
        # Held by another worker, which may have died: look again when its lease ends.
        log.info("event.busy", retry_in=event.seconds)
        requeue(event.seconds)
        return
    handler = HANDLERS.get(event.type)
    if handler is None:
        settle_event(ctx.engine, event_id, EventStatus.IGNORED, f"no handler for {event.type}")
        return
    try:
        with postponed_when_busy():
            note = handler(ctx, event)
    except DatabaseBusy:
        raise  # handed back by `_postpone`, if the database lets it
    except RetryLater as exc:
        hand_back(ctx.engine, event_id, str(exc))
        requeue(exc.delay_seconds)
        log.info("event.retry_later", event_type=event.type, delay=exc.delay_seconds, why=str(exc))
        return
    except PermanentFailure as exc:
        settle_event(ctx.engine, event_id, EventStatus.FAILED, str(exc))
        log.warning("event.failed", event_type=event.type, reason=str(exc))
        return
    except Exception as exc:
        hand_back(ctx.engine, event_id, f"{type(exc).__name__}: {exc}")
        raise
    if isinstance(note, Settled):
        note = note.note  # settled by the handler's own last transaction
    else:
        with span("event.settle", **{"voicehook.event_id": event_id}):
            settle_event(ctx.engine, event_id, EventStatus.PROCESSED, None)
    log.info("event.processed", event_type=event.type, attempt=event.attempts, note=note)


def _postpone(ctx: ProcessorContext, event_id: str, busy: DatabaseBusy, requeue: Requeue) -> None:
    """Hand the event back and come back after the delay. If the database refuses the hand-
    back too, the event keeps its lease (if it was claimed): the delayed message then finds
    it busy and returns when the lease ends."""
    handed_back = True
    try:
        with postponed_when_busy():
            hand_back(ctx.engine, event_id, str(busy))
    except DatabaseBusy:
        handed_back = False
    requeue(busy.delay_seconds)
    log.warning(
        "event.database_busy",
        delay=round(busy.delay_seconds, 2),
        error=str(busy),
        handed_back=handed_back,
    )
