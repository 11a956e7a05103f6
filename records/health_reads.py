"""Counts the health signals are made of: events and jobs by status, the oldest event not yet
processed, stuck events and flagged notification endpoints. Each is one indexed query."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, Engine, Table, func, select

from records.claims import lease_expired
from records.events import EVENTS, EventStatus
from records.jobs import JOBS
from records.outbox_tables import NOTIFY_ENDPOINTS
from records.types import utcnow

# Not yet processed: the worker still owes these an outcome.
UNPROCESSED_STATES = (EventStatus.RECEIVED, EventStatus.QUEUED, EventStatus.PROCESSING)


@dataclass(frozen=True)
class StoredCounts:
    """What the database says, at one moment."""

    events_by_status: dict[str, int]
    jobs_by_status: dict[str, int]
    oldest_unprocessed_at: datetime | None
    stuck_events: int  # processing past the lease, or queued and untouched too long
    flagged_endpoints: list[str]  # URLs of endpoints failing long enough to be flagged


def read_counts(
    engine: Engine, *, lease_seconds: float, stuck_after_seconds: float
) -> StoredCounts:
    """Every count, in one read-only connection."""
    now = utcnow()
    with engine.connect() as conn:
        return StoredCounts(
            events_by_status=_by_status(conn, EVENTS),
            jobs_by_status=_by_status(conn, JOBS),
            oldest_unprocessed_at=conn.execute(
                select(func.min(EVENTS.c.received_at)).where(
                    EVENTS.c.status.in_([s.value for s in UNPROCESSED_STATES])
                )
            ).scalar(),
            stuck_events=_stuck_events(conn, now, lease_seconds, stuck_after_seconds),
            flagged_endpoints=list(
                conn.execute(
                    select(NOTIFY_ENDPOINTS.c.url)
                    .where(NOTIFY_ENDPOINTS.c.flagged_at.is_not(None))
                    .order_by(NOTIFY_ENDPOINTS.c.url)
                ).scalars()
            ),
        )


def _by_status(conn: Connection, table: Table) -> dict[str, int]:
    status = table.c.status
    rows = conn.execute(select(status, func.count()).group_by(status))
    return {str(status): int(count) for status, count in rows}


def _stuck_events(
    conn: Connection, now: datetime, lease_seconds: float, stuck_after_seconds: float
) -> int:
    lost = (EVENTS.c.status == EventStatus.QUEUED.value) & (
        EVENTS.c.updated_at <= now - timedelta(seconds=stuck_after_seconds)
    )
    condition = lease_expired(now, lease_seconds) | lost
    return int(conn.execute(select(func.count()).where(condition)).scalar() or 0)
