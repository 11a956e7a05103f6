"""The dashboard overview's counts, each one query over an index (issue 16: under 100 ms
with a million events; `python -m bench dashboard` measures them)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Column, ColumnElement, Connection, DateTime, Engine, String, func, select

from records.events import DELIVERIES, EVENTS, EventStatus
from records.jobs import JOBS
from records.types import utcnow

WAITING_STATES = (EventStatus.RECEIVED.value, EventStatus.QUEUED.value)


@dataclass(frozen=True, slots=True)
class MinuteCount:
    minute: datetime  # the minute's start, UTC
    accepted: int
    duplicate: int


@dataclass(frozen=True, slots=True)
class Overview:
    events_by_status: dict[str, int]
    jobs_by_status: dict[str, int]
    deliveries: list[MinuteCount] = field(default_factory=list)  # the last hour, oldest first
    oldest_waiting: datetime | None = None  # received_at of the oldest received/queued event


def overview(engine: Engine, now: datetime | None = None) -> Overview:
    """Everything the overview counts from the database, on one connection."""
    now = now or utcnow()
    with engine.connect() as conn:
        return Overview(
            events_by_status=_by_status(conn, EVENTS.c.status),
            jobs_by_status=_by_status(conn, JOBS.c.status),
            deliveries=deliveries_per_minute(conn, now),
            oldest_waiting=conn.execute(
                select(func.min(EVENTS.c.received_at)).where(EVENTS.c.status.in_(WAITING_STATES))
            ).scalar(),
        )


def _by_status(conn: Connection, status: Column[str]) -> dict[str, int]:
    """Rows per status: events.status and jobs.status each lead an index."""
    query = select(status, func.count()).group_by(status)
    return {str(name): int(count) for name, count in conn.execute(query)}


def deliveries_per_minute(conn: Connection, now: datetime) -> list[MinuteCount]:
    """Verified deliveries of the last hour per minute: new events and duplicates (a range
    of the `received_at` index, grouped by minute in the database)."""
    start = (now - timedelta(hours=1)).replace(second=0, microsecond=0) + timedelta(minutes=1)
    minute = _minute_bucket(conn.dialect.name).label("minute")
    query = (
        select(minute, DELIVERIES.c.duplicate, func.count())
        .where(DELIVERIES.c.received_at >= start)
        .group_by(minute, DELIVERIES.c.duplicate)
    )
    counts: dict[datetime, list[int]] = {}
    for bucket, duplicate, count in conn.execute(query):
        at = _as_minute(bucket)
        counts.setdefault(at, [0, 0])[1 if duplicate else 0] += int(count)
    minutes = [start + timedelta(minutes=i) for i in range(60)]
    return [MinuteCount(at, *counts.get(at, [0, 0])) for at in minutes]


def _minute_bucket(dialect: str) -> ColumnElement[Any]:
    """The minute a delivery arrived in, computed by the database."""
    if dialect == "sqlite":
        # SQLite keeps the UTC time as text, 'YYYY-MM-DD HH:MM:SS.ffffff': its minute is a prefix.
        return func.substr(DELIVERIES.c.received_at, 1, 16, type_=String)
    return func.date_trunc("minute", DELIVERIES.c.received_at, type_=DateTime(timezone=True))


def _as_minute(bucket: object) -> datetime:
    if isinstance(bucket, datetime):
        return bucket.astimezone(UTC)
    return datetime.strptime(str(bucket), "%Y-%m-%d %H:%M").replace(tzinfo=UTC)


def count_jobs(engine: Engine, status: str) -> int:
    """How many jobs are in `status` (what a bulk action's confirmation states)."""
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).where(JOBS.c.status == status)).scalar() or 0)
