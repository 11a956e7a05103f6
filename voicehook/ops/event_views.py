"""Events and their deliveries as `events list` and `events show` present them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, RowMapping, func, select

from records.events import DELIVERIES, EVENTS, first_body_query, stored_body
from voicehook.ops.selection import EventFilter


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


def first_body(engine: Engine, event_id: str) -> bytes | None:
    """The body of the event's first delivery that still has one (None: none, or pruned)."""
    with engine.connect() as conn:
        body = conn.execute(first_body_query(event_id)).scalar()
    return bytes(body) if body is not None else None
