"""Put selected events back to `queued` and enqueue them again, once each.

Safe because the workers are idempotent: a worker claims an event, asks its handler to do
what is still left, and a handler of an event whose effects are already there changes
nothing (a ready job stays ready, a recorded failure is not retried twice). So reprocessing
a processed event is a no-op downstream, and reprocessing a failed one, once its cause is
fixed, does the work that failed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Engine, exists, select, update

from config.broker import EnqueueIds
from config.database import write_options
from records.events import DELIVERIES, EVENTS, EventStatus
from records.types import utcnow
from voicehook.ops.selection import EventFilter

BATCH = 500
HELD = "a worker is processing it now (the sweeper takes over if that worker died)"
NO_BODY = "its delivery bodies were pruned, so a worker would have no data to act on"


def skip_reason(status: str, has_body: bool) -> str | None:
    """Why an event cannot be reprocessed, or None when it can."""
    if status == EventStatus.PROCESSING:
        return HELD
    if not has_body:
        return NO_BODY
    return None


@dataclass
class ReprocessResult:
    selected: int = 0
    requeued: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)  # event id -> reason
    dry_run: bool = False


def reprocess(
    engine: Engine, selection: EventFilter, enqueue: EnqueueIds, *, dry_run: bool = False
) -> ReprocessResult:
    """Requeue the selected events (or, dry, say which would be); enqueue each exactly once.

    Each batch is marked `queued` (finished_at cleared; attempts and last_error kept as
    history until a worker settles it again), enqueued, then committed: a worker that takes
    the message before the commit waits on the row lock and then sees `queued`. If Redis
    refuses, that batch is rolled back and the error propagates (BrokerUnavailable); the
    batches before it stay done.
    """
    has_body = exists().where(DELIVERIES.c.event_id == EVENTS.c.id, DELIVERIES.c.body.is_not(None))
    query = (
        select(EVENTS.c.id, EVENTS.c.status, has_body.label("has_body"))
        .where(*selection.conditions())
        .order_by(EVENTS.c.received_at, EVENTS.c.id)
    )
    result = ReprocessResult(dry_run=dry_run)
    eligible: list[str] = []
    with engine.connect() as conn:
        for event_id, status, stored in conn.execute(query):
            result.selected += 1
            reason = skip_reason(status, bool(stored))
            if reason:
                result.skipped[event_id] = reason
            else:
                eligible.append(event_id)
    if dry_run:
        result.requeued = eligible
        return result
    for start in range(0, len(eligible), BATCH):
        chunk = eligible[start : start + BATCH]
        done = _requeue(engine, chunk, enqueue)
        result.requeued.extend(done)
        for event_id in set(chunk) - set(done):
            result.skipped[event_id] = HELD
    return result


def _requeue(engine: Engine, event_ids: list[str], enqueue: EnqueueIds) -> list[str]:
    now = utcnow()
    with engine.connect().execution_options(**write_options()) as conn, conn.begin():
        marked = list(
            conn.execute(
                update(EVENTS)
                .where(
                    EVENTS.c.id.in_(event_ids),
                    EVENTS.c.status != EventStatus.PROCESSING.value,
                )
                .values(
                    status=EventStatus.QUEUED.value,
                    queued_at=now,
                    finished_at=None,
                    updated_at=now,
                )
                .returning(EVENTS.c.id)
            ).scalars()
        )
        order = {event_id: i for i, event_id in enumerate(event_ids)}
        marked.sort(key=order.__getitem__)
        enqueue(marked)
    return marked
