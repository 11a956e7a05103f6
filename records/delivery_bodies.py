"""Dropping old delivery bodies (and, when asked, headers): the rows, sizes and events stay.

Only deliveries of settled events (`processed`, `ignored`) lose their bodies: a worker reads
an event's data from its first stored body, so the bodies of events still waiting, being
processed, or `failed` (which may be reprocessed once the cause is fixed) are kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, func, select, update

from config.database import transaction
from records.events import DELIVERIES, EVENTS, EventStatus

BATCH = 500
PRUNABLE = (EventStatus.PROCESSED.value, EventStatus.IGNORED.value)


@dataclass(frozen=True)
class PruneResult:
    bodies: int  # bodies dropped (or that would be, dry)
    bytes: int
    kept: int  # old bodies kept because their event is not settled
    dry_run: bool
    headers: int = 0  # deliveries whose headers were dropped (or would be, dry)


def prune_bodies(
    engine: Engine,
    cutoff: datetime,
    *,
    dry_run: bool = False,
    batch: int = BATCH,
    headers: bool = False,
) -> PruneResult:
    """Set to NULL the bodies received before `cutoff` whose event is settled; with
    `headers`, empty those deliveries' stored headers too.

    Works in batches of `batch` rows, each its own short transaction, so it never holds a
    long lock over the table the receiver writes to.
    """
    has_body = DELIVERIES.c.body.is_not(None)
    old = DELIVERIES.c.received_at < cutoff
    target = old if headers else old & has_body
    settled = EVENTS.c.status.in_(PRUNABLE)
    joined = DELIVERIES.join(EVENTS, EVENTS.c.id == DELIVERIES.c.event_id)
    with engine.connect() as conn:
        kept = conn.execute(
            select(func.count()).select_from(joined).where(old & has_body, ~settled)
        ).scalar_one()
        if dry_run:
            count, size = conn.execute(
                select(func.count(), func.coalesce(func.sum(DELIVERIES.c.body_size), 0))
                .select_from(joined)
                .where(old & has_body, settled)
            ).one()
            dropped_headers = (
                int(
                    conn.execute(
                        select(func.count()).select_from(joined).where(old, settled)
                    ).scalar_one()
                )
                if headers
                else 0
            )
            return PruneResult(int(count), int(size), int(kept), True, dropped_headers)
    pruned = freed = dropped = 0
    after = 0
    values: dict[str, object] = {"body": None}
    if headers:
        values["headers"] = {}
    while True:
        with transaction(engine) as conn:
            rows = conn.execute(
                select(DELIVERIES.c.id, DELIVERIES.c.body_size, has_body.label("has_body"))
                .select_from(joined)
                .where(target, settled, DELIVERIES.c.id > after)
                .order_by(DELIVERIES.c.id)
                .limit(batch)
            ).all()
            if not rows:
                break
            ids = [row.id for row in rows]
            conn.execute(update(DELIVERIES).where(DELIVERIES.c.id.in_(ids)).values(**values))
        with_body = [row for row in rows if row.has_body]
        pruned += len(with_body)
        freed += sum(row.body_size for row in with_body)
        dropped += len(rows) if headers else 0
        after = ids[-1]
    return PruneResult(pruned, freed, int(kept), dry_run=False, headers=dropped)
