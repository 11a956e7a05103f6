"""Persistence of verified deliveries: one transaction per batch, deduplicated by the database."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, Insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError

from config.database import write_options
from config.errors import StorageUnavailable
from records.envelope import ParsedEvent
from records.events import DELIVERIES, EVENTS, EventStatus
from records.types import utcnow


@dataclass(frozen=True, slots=True)
class Incoming:
    """A verified delivery on its way to the database."""

    event_id: str  # the id the event gets if this delivery is the first of it
    event: ParsedEvent
    body: bytes
    headers: dict[str, str]
    remote_addr: str | None
    secret_fingerprint: str
    received_at: datetime


@dataclass(frozen=True, slots=True)
class Outcome:
    """What persisting one delivery did: which event it belongs to and whether it created it."""

    event_id: str
    created: bool
    status: str


def initial_status(event: ParsedEvent) -> EventStatus:
    """Known events wait for a worker; unknown ones are kept but nothing is done with them."""
    return EventStatus.RECEIVED if event.known else EventStatus.IGNORED


class EventStore:
    """Writes batches of deliveries, and marks enqueued events, in single transactions."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._insert_event = _insert_ignoring_duplicates(engine.dialect.name)

    def persist(self, batch: Sequence[Incoming], enqueued: Sequence[str] = ()) -> list[Outcome]:
        """Store `batch` and mark `enqueued` ids queued, all or nothing, in one commit."""
        try:
            with self._engine.connect().execution_options(**write_options()) as conn:
                with conn.begin():
                    outcomes = self._store(conn, batch) if batch else []
                    if enqueued:
                        _mark_queued(conn, enqueued)
                return outcomes
        except SQLAlchemyError as exc:
            raise StorageUnavailable(f"could not store {len(batch)} delivery(ies): {exc}") from exc

    def mark_queued(self, event_ids: Sequence[str]) -> None:
        self.persist((), event_ids)

    def _store(self, conn: Any, batch: Sequence[Incoming]) -> list[Outcome]:
        now = utcnow()
        conn.execute(self._insert_event, [_event_row(item, now) for item in batch])
        keys = list({item.event.dedup_key for item in batch})
        rows = conn.execute(
            select(EVENTS.c.dedup_key, EVENTS.c.id, EVENTS.c.status).where(
                EVENTS.c.dedup_key.in_(keys)
            )
        )
        stored = {key: (event_id, status) for key, event_id, status in rows}
        outcomes = []
        for item in batch:
            event_id, status = stored[item.event.dedup_key]
            outcomes.append(Outcome(event_id, created=event_id == item.event_id, status=status))
        conn.execute(
            DELIVERIES.insert(),
            [_delivery_row(item, o) for item, o in zip(batch, outcomes, strict=True)],
        )
        return outcomes


def _insert_ignoring_duplicates(dialect: str) -> Insert:
    if dialect == "postgresql":
        return postgresql.insert(EVENTS).on_conflict_do_nothing(index_elements=["dedup_key"])
    if dialect == "sqlite":
        return sqlite.insert(EVENTS).on_conflict_do_nothing(index_elements=["dedup_key"])
    raise StorageUnavailable(f"unsupported database dialect {dialect!r}")


def _event_row(item: Incoming, now: datetime) -> dict[str, Any]:
    event = item.event
    return {
        "id": item.event_id,
        "type": event.type[:100],
        "resource_id": event.resource_id[:255] if event.resource_id else None,
        "dedup_key": event.dedup_key,
        "body_timestamp": event.body_timestamp,
        "status": initial_status(event).value,
        "attempts": 0,
        "received_at": item.received_at,
        "updated_at": now,
    }


def _delivery_row(item: Incoming, outcome: Outcome) -> dict[str, Any]:
    return {
        "event_id": outcome.event_id,
        "received_at": item.received_at,
        "remote_addr": item.remote_addr,
        "headers": item.headers,
        "body": item.body,
        "body_size": len(item.body),
        "secret_fingerprint": item.secret_fingerprint,
        "duplicate": not outcome.created,
    }


def _mark_queued(conn: Any, event_ids: Sequence[str]) -> None:
    now = utcnow()
    conn.execute(
        update(EVENTS)
        .where(EVENTS.c.id.in_(list(event_ids)), EVENTS.c.status == EventStatus.RECEIVED.value)
        .values(status=EventStatus.QUEUED.value, queued_at=now, updated_at=now)
    )
