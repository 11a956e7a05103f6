"""The dashboard's lists, paged by keyset: each page is the rows after a (time, id) key in
an index's order, never an OFFSET, so page 10,000 costs what page 1 costs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Engine, Select, Table, and_, or_, select

from records.event_reads import stored_body
from records.events import DELIVERIES, EVENTS
from records.jobs import ATTEMPTS, CUSTOMERS, JOBS, VOICES

Key = tuple[datetime, str]  # (the time column, the id): the order of every list, newest first


@dataclass(frozen=True, slots=True)
class Page:
    rows: list[dict[str, Any]]
    next_key: Key | None  # where the next page starts; None on the last page


@dataclass(frozen=True, slots=True)
class EventQuery:
    event_type: str | None = None
    status: str | None = None
    since: datetime | None = None
    generation_id: str | None = None
    customer_id: str | None = None
    id_prefix: str | None = None


@dataclass(frozen=True, slots=True)
class JobQuery:
    status: str | None = None
    customer_id: str | None = None
    id_prefix: str | None = None


def _after(table: Table, time_column: str, key: Key | None) -> list[ColumnElement[bool]]:
    if key is None:
        return []
    at, row_id = key
    column = table.c[time_column]
    return [or_(column < at, and_(column == at, table.c.id < row_id))]


def _page(engine: Engine, query: Select[Any], time_column: str, limit: int) -> Page:
    with engine.connect() as conn:
        rows = [dict(row) for row in conn.execute(query.limit(limit + 1)).mappings()]
    if len(rows) <= limit:
        return Page(rows, None)
    rows = rows[:limit]
    return Page(rows, (rows[-1][time_column], rows[-1]["id"]))


def events_page(engine: Engine, query: EventQuery, key: Key | None, limit: int) -> Page:
    """Events newest first, filtered as asked."""
    where = _after(EVENTS, "received_at", key)
    if query.event_type:
        where.append(EVENTS.c.type == query.event_type)
    if query.status:
        where.append(EVENTS.c.status == query.status)
    if query.since is not None:
        where.append(EVENTS.c.received_at >= query.since)
    if query.generation_id:
        where.append(EVENTS.c.resource_id == query.generation_id)
    if query.customer_id:
        generations = (
            select(ATTEMPTS.c.generation_id)
            .join(JOBS, JOBS.c.id == ATTEMPTS.c.job_id)
            .where(JOBS.c.customer_id == query.customer_id, ATTEMPTS.c.generation_id.is_not(None))
        )
        where.append(EVENTS.c.resource_id.in_(generations))
    if query.id_prefix:
        # A prefix range, not LIKE: it uses the primary key's index on either database.
        where.append(EVENTS.c.id >= query.id_prefix)
        where.append(EVENTS.c.id < query.id_prefix + "\uffff")
    columns = (
        EVENTS.c.id,
        EVENTS.c.type,
        EVENTS.c.resource_id,
        EVENTS.c.status,
        EVENTS.c.attempts,
        EVENTS.c.last_error,
        EVENTS.c.received_at,
    )
    order = (EVENTS.c.received_at.desc(), EVENTS.c.id.desc())
    return _page(engine, select(*columns).where(*where).order_by(*order), "received_at", limit)


def jobs_page(engine: Engine, query: JobQuery, key: Key | None, limit: int) -> Page:
    """Jobs newest first, with their customer's reference."""
    where = _after(JOBS, "created_at", key)
    if query.status:
        where.append(JOBS.c.status == query.status)
    if query.customer_id:
        where.append(JOBS.c.customer_id == query.customer_id)
    if query.id_prefix:
        where.append(JOBS.c.id >= query.id_prefix)
        where.append(JOBS.c.id < query.id_prefix + "\uffff")
    columns = (
        JOBS.c.id,
        JOBS.c.status,
        JOBS.c.voice_id,
        JOBS.c.format,
        JOBS.c.attempts_made,
        JOBS.c.last_error,
        JOBS.c.created_at,
        JOBS.c.audio_duration_sec,
        CUSTOMERS.c.external_ref.label("customer_ref"),
    )
    statement = (
        select(*columns)
        .outerjoin(CUSTOMERS, CUSTOMERS.c.id == JOBS.c.customer_id)
        .where(*where)
        .order_by(JOBS.c.created_at.desc(), JOBS.c.id.desc())
    )
    return _page(engine, statement, "created_at", limit)


def customers_page(engine: Engine, key: Key | None, limit: int) -> Page:
    """Customers newest first, with their usage."""
    statement = (
        select(CUSTOMERS)
        .where(*_after(CUSTOMERS, "created_at", key))
        .order_by(CUSTOMERS.c.created_at.desc(), CUSTOMERS.c.id.desc())
    )
    return _page(engine, statement, "created_at", limit)


def voices_page(engine: Engine, key: Key | None, limit: int) -> Page:
    """Cloned voices newest first, with their customer's reference."""
    columns = (
        VOICES.c.id,
        VOICES.c.name,
        VOICES.c.status,
        VOICES.c.voice_id,
        VOICES.c.last_error,
        VOICES.c.created_at,
        CUSTOMERS.c.external_ref.label("customer_ref"),
    )
    statement = (
        select(*columns)
        .outerjoin(CUSTOMERS, CUSTOMERS.c.id == VOICES.c.customer_id)
        .where(*_after(VOICES, "created_at", key))
        .order_by(VOICES.c.created_at.desc(), VOICES.c.id.desc())
    )
    return _page(engine, statement, "created_at", limit)


def event_job_id(engine: Engine, generation_id: str | None) -> str | None:
    """The job whose attempt made this generation (the job an event touched), if any."""
    if not generation_id:
        return None
    query = select(ATTEMPTS.c.job_id).where(ATTEMPTS.c.generation_id == generation_id)
    with engine.connect() as conn:
        return conn.execute(query).scalar()


def delivery_body(engine: Engine, event_id: str, delivery_id: int) -> bytes | None:
    """The exact bytes of one delivery of the event (None: no such delivery, or pruned)."""
    query = select(stored_body()).where(
        DELIVERIES.c.id == delivery_id, DELIVERIES.c.event_id == event_id
    )
    with engine.connect() as conn:
        body = conn.execute(query).scalar()
    return bytes(body) if body is not None else None
