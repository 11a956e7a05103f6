"""The dashboard's lists, paged by keyset (`records/keyset.py`): each page is the rows after
a (time, id) position in an index's order, never an OFFSET, so page 10,000 costs what page 1
costs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Engine, Select, Table, select

from records.customer_usage import customer_query
from records.event_reads import stored_body
from records.events import DELIVERIES, EVENTS
from records.jobs import ATTEMPTS, CUSTOMERS, JOBS, VOICES
from records.keyset import Page, Position, cut, page_query


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


def _page(
    engine: Engine, table: Table, query: Select[Any], after: Position | None, limit: int
) -> Page:
    time_column = "received_at" if table is EVENTS else "created_at"
    statement = page_query(table, query, after, limit, time_column=time_column)
    with engine.connect() as conn:
        rows = conn.execute(statement).all()
    return cut(rows, [dict(row._mapping) for row in rows], limit, time_column=time_column)


def events_page(engine: Engine, query: EventQuery, after: Position | None, limit: int) -> Page:
    """Events newest first, filtered as asked."""
    where: list[ColumnElement[bool]] = []
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
        where.extend(_prefixed(EVENTS.c.id, query.id_prefix))
    columns = (
        EVENTS.c.id,
        EVENTS.c.type,
        EVENTS.c.resource_id,
        EVENTS.c.status,
        EVENTS.c.attempts,
        EVENTS.c.last_error,
        EVENTS.c.received_at,
    )
    return _page(engine, EVENTS, select(*columns).where(*where), after, limit)


def _prefixed(column: ColumnElement[str], prefix: str) -> list[ColumnElement[bool]]:
    """Ids starting with `prefix`, as a range rather than LIKE: it uses the primary key's
    index on either database."""
    return [column >= prefix, column < prefix + "\uffff"]


def jobs_page(engine: Engine, query: JobQuery, after: Position | None, limit: int) -> Page:
    """Jobs newest first, with their customer's reference."""
    where: list[ColumnElement[bool]] = []
    if query.status:
        where.append(JOBS.c.status == query.status)
    if query.customer_id:
        where.append(JOBS.c.customer_id == query.customer_id)
    if query.id_prefix:
        where.extend(_prefixed(JOBS.c.id, query.id_prefix))
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
        select(*columns).outerjoin(CUSTOMERS, CUSTOMERS.c.id == JOBS.c.customer_id).where(*where)
    )
    return _page(engine, JOBS, statement, after, limit)


def customers_page(engine: Engine, after: Position | None, limit: int) -> Page:
    """Customers newest first, with their usage."""
    return _page(engine, CUSTOMERS, customer_query(), after, limit)


def voices_page(engine: Engine, after: Position | None, limit: int) -> Page:
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
    statement = select(*columns).outerjoin(CUSTOMERS, CUSTOMERS.c.id == VOICES.c.customer_id)
    return _page(engine, VOICES, statement, after, limit)


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
