"""Reading events and their deliveries back: the operator's selection, lists, one event,
the bodies a worker or an export needs."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Engine, RowMapping, Select, Table, exists, func, select

from records.events import DELIVERIES, EVENTS

EXPORT_FETCH_BATCH = 500


@dataclass(frozen=True, slots=True)
class EventFilter:
    """Conditions on events; empty means every event."""

    ids: tuple[str, ...] = ()
    since: datetime | None = None
    event_type: str | None = None
    status: str | None = None

    @property
    def empty(self) -> bool:
        return not (self.ids or self.since or self.event_type or self.status)

    def conditions(self, since_column: Table | None = None) -> list[ColumnElement[bool]]:
        """WHERE clauses on `events`; `since` applies to `since_column`'s received_at
        (the deliveries table for an export, the events table otherwise)."""
        received_at = (since_column if since_column is not None else EVENTS).c.received_at
        found: list[ColumnElement[bool]] = []
        if self.ids:
            found.append(EVENTS.c.id.in_(self.ids))
        if self.since is not None:
            found.append(received_at >= self.since)
        if self.event_type:
            found.append(EVENTS.c.type == self.event_type)
        if self.status:
            found.append(EVENTS.c.status == self.status)
        return found


def stored_body() -> ColumnElement[Any]:
    """A delivery's body as a column expression: its own, or the one it refers to (a
    duplicate whose bytes equal an earlier delivery's stores only `body_of`)."""
    shared = DELIVERIES.alias("shared")
    referred = select(shared.c.body).where(shared.c.id == DELIVERIES.c.body_of).scalar_subquery()
    return func.coalesce(DELIVERIES.c.body, referred)


def first_body_query(event_id: Any) -> Select[Any]:
    """The body of the event's first delivery that still has one (pruned bodies are NULL);
    `event_id`: a value, or a bound parameter of one."""
    return (
        select(DELIVERIES.c.body)
        .where(DELIVERIES.c.event_id == event_id, DELIVERIES.c.body.is_not(None))
        .order_by(DELIVERIES.c.id)
        .limit(1)
    )


def first_body(engine: Engine, event_id: str) -> bytes | None:
    """The body of the event's first delivery that still has one (None: none, or pruned)."""
    with engine.connect() as conn:
        body = conn.execute(first_body_query(event_id)).scalar()
    return bytes(body) if body is not None else None


def event_document(row: RowMapping) -> dict[str, Any]:
    return {
        "id": row["id"],
        "type": row["type"],
        "resourceId": row["resource_id"],
        "dedupKey": row["dedup_key"],
        "status": row["status"],
        "attempts": row["attempts"],
        "lastError": row["last_error"],
        "bodyTimestamp": row["body_timestamp"],
        "receivedAt": row["received_at"],
        "queuedAt": row["queued_at"],
        "startedAt": row["started_at"],
        "finishedAt": row["finished_at"],
        "updatedAt": row["updated_at"],
    }


def list_events(engine: Engine, selection: EventFilter, limit: int) -> list[dict[str, Any]]:
    """Matching events, newest first, each with its number of deliveries."""
    counts = (
        select(func.count())
        .where(DELIVERIES.c.event_id == EVENTS.c.id)
        .scalar_subquery()
        .label("deliveries")
    )
    query = (
        select(EVENTS, counts)
        .where(*selection.conditions())
        .order_by(EVENTS.c.received_at.desc(), EVENTS.c.id.desc())
        .limit(limit)
    )
    with engine.connect() as conn:
        return [
            event_document(row) | {"deliveries": row["deliveries"]}
            for row in conn.execute(query).mappings()
        ]


def show_event(engine: Engine, event_id: str) -> dict[str, Any] | None:
    """One event with every delivery of it (time, address, duplicate flag, size), or None."""
    with engine.connect() as conn:
        event = conn.execute(select(EVENTS).where(EVENTS.c.id == event_id)).mappings().first()
        if event is None:
            return None
        deliveries = conn.execute(
            select(
                DELIVERIES.c.id,
                DELIVERIES.c.received_at,
                DELIVERIES.c.remote_addr,
                DELIVERIES.c.duplicate,
                DELIVERIES.c.body_size,
                stored_body().is_not(None).label("body_stored"),
                DELIVERIES.c.secret_fingerprint,
                DELIVERIES.c.headers,
            )
            .where(DELIVERIES.c.event_id == event_id)
            .order_by(DELIVERIES.c.id)
        ).mappings()
        return event_document(event) | {
            "deliveries": [
                {
                    "id": d["id"],
                    "receivedAt": d["received_at"],
                    "remoteAddr": d["remote_addr"],
                    "duplicate": bool(d["duplicate"]),
                    "bodySize": d["body_size"],
                    "bodyStored": bool(d["body_stored"]),
                    "secretFingerprint": d["secret_fingerprint"],
                    "headers": d["headers"],
                }
                for d in deliveries
            ]
        }


def delivery_rows(engine: Engine, selection: EventFilter) -> Iterator[RowMapping]:
    """Every delivery of the selected events, in arrival order, streamed (`since` applies to
    the delivery's time): id, event_id, received_at, remote_addr, headers, body, duplicate,
    and the event's type."""
    query = (
        select(
            DELIVERIES.c.id,
            DELIVERIES.c.event_id,
            DELIVERIES.c.received_at,
            DELIVERIES.c.remote_addr,
            DELIVERIES.c.headers,
            stored_body().label("body"),
            DELIVERIES.c.duplicate,
            EVENTS.c.type,
        )
        .join(EVENTS, EVENTS.c.id == DELIVERIES.c.event_id)
        .where(*selection.conditions(since_column=DELIVERIES))
        .order_by(DELIVERIES.c.received_at, DELIVERIES.c.id)
    )
    with engine.connect() as conn:
        yield from conn.execution_options(yield_per=EXPORT_FETCH_BATCH).execute(query).mappings()


def event_states(engine: Engine, selection: EventFilter) -> list[tuple[str, str, bool]]:
    """(id, status, whether a body is still stored) of the selected events, oldest first."""
    has_body = exists().where(DELIVERIES.c.event_id == EVENTS.c.id, DELIVERIES.c.body.is_not(None))
    query = (
        select(EVENTS.c.id, EVENTS.c.status, has_body.label("has_body"))
        .where(*selection.conditions())
        .order_by(EVENTS.c.received_at, EVENTS.c.id)
    )
    with engine.connect() as conn:
        return [
            (event_id, status, bool(stored)) for event_id, status, stored in conn.execute(query)
        ]
