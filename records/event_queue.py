"""Events put (back) on the broker from the database: the sweeper's sweeps, and an
operator's reprocessing. The writer process enqueues new events itself (`event_store`).

Safe with any number of copies running: on PostgreSQL each copy claims rows with
`FOR UPDATE SKIP LOCKED`; on SQLite the claim is a write transaction (`BEGIN IMMEDIATE`), so
copies take turns, and the status update is conditional either way. Rows are enqueued while
the claim is held and marked `queued` in the same transaction: a crash in between leaves them
as they were, to be enqueued again — a duplicate message the idempotent workers absorb, never
a lost one.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import ColumnElement, Engine, select, update

from config.broker import EnqueueIds
from config.database import is_sqlite, transaction
from records.claims import LEASED_STATE, lease_expired
from records.events import EVENTS, EventStatus
from records.types import utcnow


def enqueue_received(
    engine: Engine, enqueue: EnqueueIds, *, min_age_seconds: float, limit: int
) -> int:
    """Enqueue up to `limit` events left `received` for over `min_age_seconds`; how many."""
    cutoff = utcnow() - timedelta(seconds=min_age_seconds)
    left = (EVENTS.c.status == EventStatus.RECEIVED.value) & (EVENTS.c.received_at <= cutoff)
    return _claim_and_enqueue(engine, enqueue, left, limit, mark_queued_at=True)


def requeue_stalled(
    engine: Engine,
    enqueue: EnqueueIds,
    *,
    lease_seconds: float,
    stuck_after_seconds: float,
    limit: int,
) -> int:
    """Enqueue again events whose worker died (`processing` past its lease) and `queued`
    events whose message Redis lost (untouched for `stuck_after_seconds`); how many.

    A message that was not lost after all is harmless: a worker claims an event only once.
    """
    now = utcnow()
    lost = (EVENTS.c.status == EventStatus.QUEUED.value) & (
        EVENTS.c.updated_at <= now - timedelta(seconds=stuck_after_seconds)
    )
    stalled = lease_expired(now, lease_seconds) | lost
    return _claim_and_enqueue(engine, enqueue, stalled, limit, mark_queued_at=False)


def _claim_and_enqueue(
    engine: Engine,
    enqueue: EnqueueIds,
    condition: ColumnElement[bool],
    limit: int,
    *,
    mark_queued_at: bool,
) -> int:
    """Claim matching events, enqueue them and mark them queued, all in one transaction."""
    claim = select(EVENTS.c.id).where(condition).order_by(EVENTS.c.received_at).limit(limit)
    if not is_sqlite(engine):
        claim = claim.with_for_update(skip_locked=True)
    with transaction(engine) as conn:
        event_ids: Sequence[str] = conn.execute(claim).scalars().all()
        if not event_ids:
            return 0
        enqueue(event_ids)
        now = utcnow()
        values = {"status": EventStatus.QUEUED.value, "updated_at": now}
        if mark_queued_at:
            values["queued_at"] = now
        conn.execute(update(EVENTS).where(EVENTS.c.id.in_(event_ids), condition).values(**values))
    return len(event_ids)


def requeue_events(engine: Engine, event_ids: Sequence[str], enqueue: EnqueueIds) -> list[str]:
    """Mark the events no worker holds `queued` and enqueue them, in one transaction; the ids
    marked, in the order given.

    finished_at is cleared; attempts and last_error stay as history until a worker settles
    the event again. A worker that takes a message before the commit waits on the row lock
    and then sees `queued`. If `enqueue` raises, nothing is marked.
    """
    now = utcnow()
    with transaction(engine) as conn:
        marked = list(
            conn.execute(
                update(EVENTS)
                .where(EVENTS.c.id.in_(event_ids), EVENTS.c.status != LEASED_STATE.value)
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
