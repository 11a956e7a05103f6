"""The dashboard overview's counts, each a range of an index (issue 16: under 100 ms with a
million events; `python -m bench dashboard` measures them).

A count costs what it counts, so the overview never counts a whole table: each status is
counted along its index up to COUNT_CAP rows (more shows as "more than 10,000"; a bulk
action's confirmation counts exactly), and the status that holds nearly every row
(`processed` events, `ready` jobs) over the last hour. A GROUP BY status over a million
events took ~300 ms on SQLite and ~240 ms on PostgreSQL; counting `processed` alone, 100
and 210 ms; its 60,000 `failed`, 8 and 14 ms.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    Column,
    ColumnElement,
    Connection,
    DateTime,
    Engine,
    String,
    and_,
    func,
    literal,
    select,
)

from records.events import DELIVERIES, EVENTS, EventStatus
from records.jobs import JOBS, JobStatus
from records.types import utcnow

COUNT_CAP = 10_000  # a count stops here: its cost stays bounded however big the table grows
WAITING_STATES = (EventStatus.RECEIVED.value, EventStatus.QUEUED.value)
# Counted exactly; the rest (processed, ready) over the last hour only.
EVENT_STATES = tuple(s.value for s in EventStatus if s is not EventStatus.PROCESSED)
JOB_STATES = tuple(s.value for s in JobStatus if s is not JobStatus.READY)


@dataclass(frozen=True, slots=True)
class MinuteCount:
    minute: datetime  # the minute's start, UTC
    accepted: int
    duplicate: int


@dataclass(frozen=True, slots=True)
class Overview:
    events_by_status: dict[str, int]  # every status but `processed`, exact
    events_processed_last_hour: int  # processed events received in the last hour
    jobs_by_status: dict[str, int]  # every status but `ready`, exact
    jobs_ready_last_hour: int  # ready jobs created in the last hour
    deliveries: list[MinuteCount] = field(default_factory=list)  # the last hour, oldest first
    oldest_waiting: datetime | None = None  # received_at of the oldest received/queued event


def overview(engine: Engine, now: datetime | None = None) -> Overview:
    """Everything the overview counts from the database: its counts in one statement (one
    round trip, a capped index range per count), then the deliveries of the last hour."""
    now = now or utcnow()
    hour_ago = now - timedelta(hours=1)
    counts: dict[str, ColumnElement[bool]] = {
        **{f"event:{name}": EVENTS.c.status == name for name in EVENT_STATES},
        **{f"job:{name}": JOBS.c.status == name for name in JOB_STATES},
        "processed": and_(
            EVENTS.c.status == EventStatus.PROCESSED.value, EVENTS.c.received_at >= hour_ago
        ),
        "ready": and_(JOBS.c.status == JobStatus.READY.value, JOBS.c.created_at >= hour_ago),
    }
    oldest = (
        select(func.min(EVENTS.c.received_at))
        .where(EVENTS.c.status.in_(WAITING_STATES))
        .scalar_subquery()
    )
    with engine.connect() as conn:
        row = conn.execute(
            select(*(capped(c).label(k) for k, c in counts.items()), oldest.label("oldest"))
        ).one()
        deliveries = deliveries_per_minute(conn, now)
    found = row._mapping
    return Overview(
        events_by_status={name: int(found[f"event:{name}"]) for name in EVENT_STATES},
        events_processed_last_hour=int(found["processed"]),
        jobs_by_status={name: int(found[f"job:{name}"]) for name in JOB_STATES},
        jobs_ready_last_hour=int(found["ready"]),
        deliveries=deliveries,
        oldest_waiting=_utc(found["oldest"]),
    )


def count_by_status(
    conn: Connection, status: Column[str], statuses: Sequence[str]
) -> dict[str, int]:
    """Rows in each of `statuses`, up to COUNT_CAP + 1 (meaning "more"): one statement, an
    index range per status (a GROUP BY would read every row)."""
    row = conn.execute(select(*(capped(status == name).label(name) for name in statuses))).one()
    return {name: int(row._mapping[name]) for name in statuses}


def capped(condition: ColumnElement[bool]) -> ColumnElement[int]:
    """How many rows meet `condition`, counted up to COUNT_CAP + 1, as a scalar subquery."""
    rows = select(literal(1)).where(condition).limit(COUNT_CAP + 1).subquery()
    return select(func.count()).select_from(rows).scalar_subquery()


def _utc(value: object) -> datetime | None:
    """A time read through a scalar subquery (SQLite gives its text, PostgreSQL a datetime)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.fromisoformat(str(value)).replace(tzinfo=UTC)


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
