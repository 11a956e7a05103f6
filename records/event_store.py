"""Persistence of verified deliveries: one transaction per batch, deduplicated by the database."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from config.database import write_options
from config.errors import StorageUnavailable
from records.envelope import ParsedEvent
from records.events import EventStatus
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
    """Writes batches of deliveries, and marks enqueued events, in single transactions.

    This is the receiver's hot path, so it speaks SQL to the driver directly (executemany
    over prepared tuples) rather than through the ORM; the columns are those of
    `records.events`, and the tests read everything back through the ORM.
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._sql = _Sql(engine.dialect.name)

    def persist(self, batch: Sequence[Incoming], enqueued: Sequence[str] = ()) -> list[Outcome]:
        """Store `batch` and mark `enqueued` ids queued, all or nothing, in one commit."""
        try:
            with self._engine.connect().execution_options(**write_options()) as conn:
                with conn.begin():
                    outcomes = self._store(conn, batch) if batch else []
                    if enqueued:
                        self._mark_queued(conn, enqueued)
                return outcomes
        except SQLAlchemyError as exc:
            raise StorageUnavailable(f"could not store {len(batch)} delivery(ies): {exc}") from exc

    def mark_queued(self, event_ids: Sequence[str]) -> None:
        self.persist((), event_ids)

    def _store(self, conn: Connection, batch: Sequence[Incoming]) -> list[Outcome]:
        sql = self._sql
        now = sql.timestamp(utcnow())
        first_of_key: dict[str, Incoming] = {}
        for item in batch:
            first_of_key.setdefault(item.event.dedup_key, item)
        # Insert in key order: two transactions inserting overlapping keys then take the
        # unique index's locks in the same order and cannot deadlock (PostgreSQL).
        keys = sorted(first_of_key)
        conn.exec_driver_sql(sql.insert_event, [sql.event_row(first_of_key[k], now) for k in keys])
        stored = {
            key: (event_id, status)
            for key, event_id, status in conn.exec_driver_sql(*sql.select_keys(keys))
        }
        outcomes = []
        for item in batch:
            event_id, status = stored[item.event.dedup_key]
            outcomes.append(Outcome(event_id, created=event_id == item.event_id, status=status))
        conn.exec_driver_sql(
            sql.insert_delivery,
            [sql.delivery_row(item, o) for item, o in zip(batch, outcomes, strict=True)],
        )
        return outcomes

    def _mark_queued(self, conn: Connection, event_ids: Sequence[str]) -> None:
        conn.exec_driver_sql(*self._sql.mark_queued(event_ids, utcnow()))


class _Sql:
    """The statements and parameter shapes of one dialect (SQLite or PostgreSQL)."""

    def __init__(self, dialect: str) -> None:
        if dialect not in ("sqlite", "postgresql"):
            raise StorageUnavailable(f"unsupported database dialect {dialect!r}")
        self.sqlite = dialect == "sqlite"
        p = "?" if self.sqlite else "%s"
        as_json = p if self.sqlite else f"{p}::json"
        self.p = p
        # Only placeholders and constants are interpolated below; values travel as parameters.
        self.insert_event = (
            "INSERT INTO events (id, type, resource_id, dedup_key, body_timestamp, status, "
            "attempts, received_at, updated_at) "
            f"VALUES ({p}, {p}, {p}, {p}, {p}, {p}, 0, {p}, {p}) "
            "ON CONFLICT (dedup_key) DO NOTHING"
        )
        self.insert_delivery = (
            "INSERT INTO deliveries (event_id, received_at, remote_addr, headers, body, "
            f"body_size, secret_fingerprint, duplicate) VALUES ({p}, {p}, {p}, {as_json}, {p}, "
            f"{p}, {p}, {p})"
        )

    def timestamp(self, value: datetime | None) -> object:
        """SQLite stores UTC text in SQLAlchemy's DATETIME format; psycopg takes datetimes."""
        if value is None or not self.sqlite:
            return value
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")

    def event_row(self, item: Incoming, now: object) -> tuple[object, ...]:
        event = item.event
        return (
            item.event_id,
            event.type[:100],
            event.resource_id[:255] if event.resource_id else None,
            event.dedup_key,
            self.timestamp(event.body_timestamp),
            initial_status(event).value,
            self.timestamp(item.received_at),
            now,
        )

    def delivery_row(self, item: Incoming, outcome: Outcome) -> tuple[object, ...]:
        duplicate = not outcome.created
        return (
            outcome.event_id,
            self.timestamp(item.received_at),
            item.remote_addr,
            orjson.dumps(item.headers).decode(),
            item.body,
            len(item.body),
            item.secret_fingerprint,
            int(duplicate) if self.sqlite else duplicate,
        )

    def select_keys(self, keys: list[str]) -> tuple[str, Any]:
        head = "SELECT dedup_key, id, status FROM events WHERE dedup_key "
        if self.sqlite:
            return head + f"IN ({', '.join('?' * len(keys))})", tuple(keys)
        return head + "= ANY(%s)", (keys,)

    def mark_queued(self, event_ids: Sequence[str], now: datetime) -> tuple[str, Any]:
        stamp = self.timestamp(now)
        head = (
            f"UPDATE events SET status = '{EventStatus.QUEUED.value}', queued_at = {self.p}, "
            f"updated_at = {self.p} WHERE status = '{EventStatus.RECEIVED.value}' AND id "
        )
        if self.sqlite:
            return head + f"IN ({', '.join('?' * len(event_ids))})", (stamp, stamp, *event_ids)
        return head + "= ANY(%s)", (stamp, stamp, list(event_ids))
