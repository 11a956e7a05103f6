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
from sqlalchemy import Engine, select, update

from config.database import is_sqlite, write_options
from receiver.ingest import Enqueue
from records.events import EVENTS, EventStatus
from records.types import utcnow

log = structlog.get_logger(__name__)


def sweep_once(engine: Engine, enqueue: Enqueue, *, min_age_seconds: float, limit: int) -> int:
    """Enqueue up to `limit` events left `received` for over `min_age_seconds`; how many."""
    cutoff = utcnow() - timedelta(seconds=min_age_seconds)
    claim = (
        select(EVENTS.c.id)
        .where(EVENTS.c.status == EventStatus.RECEIVED.value, EVENTS.c.received_at <= cutoff)
        .order_by(EVENTS.c.received_at)
        .limit(limit)
    )
    if not is_sqlite(engine):
        claim = claim.with_for_update(skip_locked=True)
    with engine.connect().execution_options(**write_options()) as conn, conn.begin():
        event_ids: Sequence[str] = conn.execute(claim).scalars().all()
        if not event_ids:
            return 0
        enqueue(event_ids)
        now = utcnow()
        conn.execute(
            update(EVENTS)
            .where(EVENTS.c.id.in_(event_ids), EVENTS.c.status == EventStatus.RECEIVED.value)
            .values(status=EventStatus.QUEUED.value, queued_at=now, updated_at=now)
        )
    log.info("sweeper.enqueued", events=len(event_ids))
    return len(event_ids)
