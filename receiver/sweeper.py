"""The sweeper: enqueues events that were committed but never made it onto the broker.

Safe with any number of copies running: on PostgreSQL each copy claims rows with
`FOR UPDATE SKIP LOCKED`; on SQLite the claim is a write transaction (`BEGIN IMMEDIATE`), so
copies take turns, and the status update is conditional either way. Rows are enqueued while
the claim is held and marked `queued` in the same transaction: a crash in between leaves them
`received`, to be enqueued again — a duplicate message the idempotent workers absorb, never
a lost one.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

import structlog
from sqlalchemy import ColumnElement, Engine, select, update

from config.broker import EnqueueIds
from config.database import is_sqlite, write_options
from records.events import EVENTS, EventStatus
from records.types import utcnow

log = structlog.get_logger(__name__)


def sweep_once(engine: Engine, enqueue: EnqueueIds, *, min_age_seconds: float, limit: int) -> int:
    """Enqueue up to `limit` events left `received` for over `min_age_seconds`; how many."""
    cutoff = utcnow() - timedelta(seconds=min_age_seconds)
    left = (EVENTS.c.status == EventStatus.RECEIVED.value) & (EVENTS.c.received_at <= cutoff)
    found = _claim_and_enqueue(engine, enqueue, left, limit, mark_queued_at=True)
    if found:
        log.info("sweeper.enqueued", events=found)
    return found


def sweep_stalled(
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
    died = (EVENTS.c.status == EventStatus.PROCESSING.value) & (
        EVENTS.c.started_at <= now - timedelta(seconds=lease_seconds)
    )
    lost = (EVENTS.c.status == EventStatus.QUEUED.value) & (
        EVENTS.c.updated_at <= now - timedelta(seconds=stuck_after_seconds)
    )
    found = _claim_and_enqueue(engine, enqueue, died | lost, limit, mark_queued_at=False)
    if found:
        log.warning("sweeper.requeued_stalled", events=found)
    return found


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
    with engine.connect().execution_options(**write_options()) as conn, conn.begin():
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
