"""Persistence of verified deliveries: one transaction per batch, deduplicated by the database."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NamedTuple, overload

import orjson
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import PoolProxiedConnection

from config.database import writer_turn
from config.errors import StorageUnavailable
from records.envelope import ParsedEvent
from records.errors import UnstorableRows
from records.events import EventStatus
from records.types import utcnow

MARKS_PER_STATEMENT = 1000  # well under SQLite's limit on bound parameters
# The status of an `Outcome` whose delivery the database refused (see UnstorableRows).
UNSTORABLE = "unstorable"


# An `Incoming` flattened for the database: what `EventStore.persist_rows` takes, and what
# the receiver sends its writer process (a plain tuple pickles several times faster). Its
# datetimes are naive UTC: an aware one pickles through its time zone object, which cost
# more than the rest of the row.
IncomingRow = tuple[
    str,  # event id, if this delivery is the event's first
    str,  # event type
    str | None,  # resource id
    datetime | None,  # body timestamp
    str,  # dedup key
    str,  # initial status
    bytes,  # body
    str,  # headers, as JSON
    str | None,  # remote address
    str,  # secret fingerprint
    datetime,  # received at
]


@dataclass(slots=True)
class Incoming:
    """A verified delivery on its way to the database."""

    event_id: str  # the id the event gets if this delivery is the first of it
    event: ParsedEvent
    body: bytes
    headers: dict[str, str]
    remote_addr: str | None
    secret_fingerprint: str
    received_at: datetime
    trace: str | None = None  # the request's `traceparent`, when traces are on

    def row(self) -> IncomingRow:
        event = self.event
        return (
            self.event_id,
            event.type,
            event.resource_id,
            naive_utc(event.body_timestamp),
            event.dedup_key,
            initial_status(event).value,
            self.body,
            orjson.dumps(self.headers).decode(),
            self.remote_addr,
            self.secret_fingerprint,
            naive_utc(self.received_at),
        )


class Outcome(NamedTuple):
    """What persisting one delivery did: which event it belongs to and whether it created it."""

    event_id: str
    created: bool
    status: str


@overload
def naive_utc(value: datetime) -> datetime: ...
@overload
def naive_utc(value: None) -> None: ...
def naive_utc(value: datetime | None) -> datetime | None:
    """`value` in UTC, without its time zone (naive values are taken to be UTC already)."""
    if value is None or value.tzinfo is None:
        return value
    if value.utcoffset():
        value = value.astimezone(UTC)
    return value.replace(tzinfo=None)


def initial_status(event: ParsedEvent) -> EventStatus:
    """Known events wait for a worker; unknown ones are kept but nothing is done with them."""
    return EventStatus.RECEIVED if event.known else EventStatus.IGNORED


class EventStore:
    """Writes batches of deliveries, and marks enqueued events, in single transactions.

    This is the receiver's hot path, so it speaks SQL to a pooled DBAPI connection directly
    (executemany over prepared tuples) rather than through SQLAlchemy's Connection, whose
    per-transaction bookkeeping cost more than the inserts; the columns are those of
    `records.events`, and the tests read everything back through the ORM.
    """

    def __init__(self, engine: Engine, *, keep_connection: bool = False) -> None:
        """`keep_connection`: hold one connection between calls instead of taking one from
        the pool each time (for a single-threaded owner, such as a writer process)."""
        self._engine = engine
        self._sql = _Sql(engine.dialect.name)
        dbapi = engine.dialect.loaded_dbapi
        self._errors = (dbapi.Error, SQLAlchemyError)
        self._data_errors = (dbapi.DataError, dbapi.IntegrityError)
        self._keep_connection = keep_connection
        self._kept: PoolProxiedConnection | None = None

    def persist(self, batch: Sequence[Incoming], enqueued: Sequence[str] = ()) -> list[Outcome]:
        """Store `batch` and mark `enqueued` ids queued, all or nothing, in one commit."""
        return self.persist_rows([item.row() for item in batch], enqueued)

    def persist_rows(
        self, rows: Sequence[IncomingRow], enqueued: Sequence[str] = ()
    ) -> list[Outcome]:
        """`persist`, for deliveries already flattened by `Incoming.row`."""
        try:
            connection = self._kept or self._engine.raw_connection()
        except SQLAlchemyError as exc:
            raise StorageUnavailable(f"could not store {len(rows)} delivery(ies): {exc}") from exc
        try:
            with writer_turn(self._engine):  # SQLite: in turn with every process's writers
                cursor = connection.cursor()
                if self._sql.sqlite:
                    cursor.execute("BEGIN IMMEDIATE")  # the driver leaves BEGIN to us
                outcomes = self._store(cursor, rows) if rows else []
                for start in range(0, len(enqueued), MARKS_PER_STATEMENT):
                    chunk = enqueued[start : start + MARKS_PER_STATEMENT]
                    cursor.execute(*self._sql.mark_queued(chunk, utcnow()), **self._sql.unprepared)
                connection.commit()
        except self._errors as exc:
            with contextlib.suppress(*self._errors):
                connection.rollback()
            # It may be broken (a restarted server): next time, a fresh one.
            connection.invalidate()
            self._kept = None
            connection.close()
            refused = UnstorableRows if isinstance(exc, self._data_errors) else StorageUnavailable
            raise refused(f"could not store {len(rows)} delivery(ies): {exc}") from exc
        if self._keep_connection:
            self._kept = connection
        else:
            connection.close()
        return outcomes

    def close(self) -> None:
        """Give back the kept connection, if any."""
        if self._kept is not None:
            self._kept.close()
            self._kept = None

    def mark_queued(self, event_ids: Sequence[str]) -> None:
        self.persist_rows((), event_ids)

    def _store(self, cursor: Any, rows: Sequence[IncomingRow]) -> list[Outcome]:
        sql = self._sql
        stamp = sql.timestamp
        now = stamp(utcnow())
        events: dict[str, tuple[object, ...]] = {}
        received = []
        for event_id, type_, resource_id, timestamp, key, status, *_, received_at in rows:
            at = stamp(received_at)
            received.append(at)
            if key not in events:
                events[key] = (
                    event_id,
                    type_[:100],
                    resource_id[:255] if resource_id else None,
                    key,
                    stamp(timestamp),
                    status,
                    at,
                    now,
                )
        # Insert in key order: two transactions inserting overlapping keys then take the
        # unique index's locks in the same order and cannot deadlock (PostgreSQL).
        keys = sorted(events)
        cursor.executemany(sql.insert_event, [events[key] for key in keys])
        cursor.execute(*sql.select_keys(keys), **sql.unprepared)
        stored = {key: (event_id, status) for key, event_id, status in cursor.fetchall()}
        outcomes = []
        deliveries = []
        for row, at in zip(rows, received, strict=True):
            event_id, status = stored[row[4]]
            created = event_id == row[0]
            outcomes.append(Outcome(event_id, created, status))
            body = row[6]
            body_of = None if created else self._same_body(cursor, event_id, body)
            deliveries.append(
                (
                    event_id,
                    at,
                    row[8],
                    row[7],
                    body if body_of is None else None,
                    len(body),
                    row[9],
                    sql.flag(not created),
                    body_of,
                )
            )
        cursor.executemany(sql.insert_delivery, deliveries)
        return outcomes

    def _same_body(self, cursor: Any, event_id: str, body: bytes) -> int | None:
        """The id of a committed delivery of `event_id` holding exactly `body`, if any.

        Only duplicates ask, and they are rare: a replay of stored bytes then costs a row, not
        a copy. A duplicate of a delivery in the same batch (not yet inserted) is copied.
        """
        cursor.execute(self._sql.same_body, (event_id, len(body)), **self._sql.unprepared)
        for delivery_id, stored in cursor.fetchall():
            if bytes(stored) == body:
                return int(delivery_id)
        return None


class _Sql:
    """The statements and parameter shapes of one dialect (SQLite or PostgreSQL)."""

    def __init__(self, dialect: str) -> None:
        if dialect not in ("sqlite", "postgresql"):
            raise StorageUnavailable(f"unsupported database dialect {dialect!r}")
        self.sqlite = dialect == "sqlite"
        p = "?" if self.sqlite else "%s"
        as_json = p if self.sqlite else f"{p}::json"
        self.p = p
        # psycopg prepares a statement run 5 times on a connection, and PostgreSQL may then
        # keep one generic plan for it. For `= ANY(array)` lookups first run on an empty
        # table that plan is a sequential scan, kept until an ANALYZE: the writer's commits
        # went from 3 ms to 26 ms over 50k events. Planned afresh each time, they stay flat.
        self.unprepared: dict[str, Any] = {} if self.sqlite else {"prepare": False}
        # Only placeholders and constants are interpolated below; values travel as parameters.
        self.insert_event = (
            "INSERT INTO events (id, type, resource_id, dedup_key, body_timestamp, status, "
            "attempts, received_at, updated_at) "
            f"VALUES ({p}, {p}, {p}, {p}, {p}, {p}, 0, {p}, {p}) "
            "ON CONFLICT (dedup_key) DO NOTHING"
        )
        self.insert_delivery = (
            "INSERT INTO deliveries (event_id, received_at, remote_addr, headers, body, "
            f"body_size, secret_fingerprint, duplicate, body_of) VALUES ({p}, {p}, {p}, "
            f"{as_json}, {p}, {p}, {p}, {p}, {p})"
        )
        # Few candidates: same event, same size, a body of its own (the first such is the
        # one every later equal duplicate refers to).
        self.same_body = (
            "SELECT id, body FROM deliveries WHERE event_id = "
            f"{p} AND body_size = {p} AND body IS NOT NULL ORDER BY id LIMIT 4"
        )

    def timestamp(self, value: datetime | None) -> object:
        """SQLite stores UTC text in SQLAlchemy's DATETIME format; psycopg takes aware
        datetimes. Naive values are UTC (see IncomingRow)."""
        if value is None:
            return None
        if not self.sqlite:
            return value if value.tzinfo else value.replace(tzinfo=UTC)
        # `YYYY-MM-DD HH:MM:SS.ffffff`; isoformat is far cheaper than strftime.
        return naive_utc(value).isoformat(" ", "microseconds")

    def flag(self, value: bool) -> object:
        return int(value) if self.sqlite else value

    def one_of(self, values: Sequence[str]) -> tuple[str, tuple[Any, ...]]:
        """`column <this>` matches any of `values`: the clause and its parameters."""
        if self.sqlite:
            return f"IN ({', '.join('?' * len(values))})", tuple(values)
        return "= ANY(%s)", (list(values),)

    def select_keys(self, keys: list[str]) -> tuple[str, Any]:
        clause, params = self.one_of(keys)
        return "SELECT dedup_key, id, status FROM events WHERE dedup_key " + clause, params

    def mark_queued(self, event_ids: Sequence[str], now: datetime) -> tuple[str, Any]:
        """Mark the events still `received` queued (a worker may have claimed one already).

        The rows are found by primary key alone, with the status tested in the assignments:
        given `status = 'received'` in the WHERE clause, PostgreSQL's plan also scanned the
        status index, whose `received` entries for rows since marked stay until a vacuum:
        1.4 ms per mark at 30k events, and growing with the table.
        """
        stamp = self.timestamp(now)
        received, queued = EventStatus.RECEIVED.value, EventStatus.QUEUED.value
        still = f"status = '{received}'"
        head = (
            f"UPDATE events SET queued_at = CASE WHEN {still} THEN {self.p} ELSE queued_at END,"
            f" updated_at = CASE WHEN {still} THEN {self.p} ELSE updated_at END,"
            f" status = CASE WHEN {still} THEN '{queued}' ELSE status END WHERE id "
        )
        clause, params = self.one_of(event_ids)
        return head + clause, (stamp, stamp, *params)
