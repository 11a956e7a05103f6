"""A worker's claim on an event: who may start on it, the claim itself, and how it ends.

The rule is declared once (`CLAIMABLE_STATES` and the lease on `LEASED_STATE`): the SQL
`claimable` the claim runs, and the pure `lease_remaining` that tells a busy event from a
settled one when the claim finds nothing, are both written from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

import orjson
from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    Row,
    Select,
    String,
    Update,
    and_,
    bindparam,
    or_,
    select,
    update,
)
from sqlalchemy.sql.dml import ReturningUpdate

from config.database import is_sqlite, single_statements, transaction
from records.attempt_views import AttemptView, attempt_columns, find_attempt_on, view_of
from records.event_reads import first_body_query
from records.events import EVENTS, EventStatus
from records.jobs import ATTEMPTS, JOBS
from records.types import UTCDateTime, utcnow

# Events about a generation: their claim also reads the generation's attempt.
GENERATION_EVENTS = frozenset({"generation.ready", "generation.failed"})
CLAIMABLE_STATES = frozenset({EventStatus.RECEIVED, EventStatus.QUEUED})
LEASED_STATE = EventStatus.PROCESSING  # held by a worker until its lease runs out


def lease_remaining(
    status: str, started_at: datetime | None, now: datetime, lease_seconds: float
) -> float | None:
    """Seconds until the lease of a held event runs out (0 or less: its worker died and
    anyone may claim it); None when nobody holds it.

    A `processing` event without a start time counts as not held (the claim always sets one).
    """
    if status != LEASED_STATE.value or started_at is None:
        return None
    started = started_at if started_at.tzinfo else started_at.replace(tzinfo=UTC)
    return (started + timedelta(seconds=lease_seconds) - now).total_seconds()


def lease_expired(now: datetime, lease_seconds: float) -> ColumnElement[bool]:
    """Events held past their lease, their worker dead (SQL of `lease_remaining` ≤ 0)."""
    return _held_since_before(now - timedelta(seconds=lease_seconds))


def claimable(now: datetime, lease_seconds: float) -> ColumnElement[bool]:
    """Events a worker may start on: a claimable state, or a lease that ran out."""
    return _claimable_unless_held_since(now - timedelta(seconds=lease_seconds))


def _held_since_before(stale: datetime | ColumnElement[datetime]) -> ColumnElement[bool]:
    """`stale`: a time, or a bound parameter of one (a statement built once)."""
    return (EVENTS.c.status == LEASED_STATE.value) & (EVENTS.c.started_at <= stale)


def _claimable_unless_held_since(
    stale: datetime | ColumnElement[datetime],
) -> ColumnElement[bool]:
    return or_(
        EVENTS.c.status.in_(sorted(state.value for state in CLAIMABLE_STATES)),
        _held_since_before(stale),
    )


@dataclass(frozen=True)
class ClaimedEvent:
    id: str
    type: str
    resource_id: str | None
    data: dict[str, Any]
    attempts: int
    received_at: datetime | None = None  # when its first delivery arrived
    attempt: AttemptView | None = None  # a generation's attempt, as the claim found it


@dataclass(frozen=True)
class Busy:
    """Another worker holds the event; its lease runs out in `seconds`."""

    seconds: float


def claim_event(engine: Engine, event_id: str, lease_seconds: float) -> ClaimedEvent | Busy | None:
    """Mark the event `processing` if nobody else is on it.

    Busy when another worker's lease on it is still running (the caller should come back
    when it ends: that worker may have died); None when the event is settled or unknown.

    One statement claims and reads the event (`UPDATE … RETURNING`, its first body as a
    subquery); a generation's event also brings the attempt it is about, read in the same
    transaction (`ClaimedEvent.attempt`, None when no attempt has recorded it yet).

    On SQLite the claim commits without waiting for the disk (`transaction(durable=False)`),
    so it no longer fsyncs under the write lock: a power cut can undo it only together with
    everything after it (the completion that follows it is durable), which leaves the event
    as if no worker had taken it — queued or received, found again by the sweeper. On
    PostgreSQL it stays durable, and is one statement (`_claim_in_one_statement`).
    """
    now = utcnow()
    if not is_sqlite(engine):
        return _claim_in_one_statement(engine, event_id, now, lease_seconds)
    with transaction(engine, durable=False) as conn:
        row = conn.execute(_claim(event_id, now, claimable(now, lease_seconds))).first()
        if row is None:
            return _busy_or_settled(conn, event_id, now, lease_seconds)
        attempt = (
            find_attempt_on(conn, row.resource_id)
            if row.type in GENERATION_EVENTS and row.resource_id
            else None
        )
    return _claimed(event_id, row, attempt)


def _claim(event_id: Any, now: Any, condition: ColumnElement[bool]) -> ReturningUpdate[Any]:
    """The claim: the event `processing` with one attempt more, its columns and first body,
    if `condition` holds (`event_id` and `now`: values, or bound parameters of them)."""
    return (
        update(EVENTS)
        .where(EVENTS.c.id == event_id, condition)
        .values(
            status=LEASED_STATE.value,
            attempts=EVENTS.c.attempts + 1,
            started_at=now,
            updated_at=now,
        )
        .returning(
            EVENTS.c.type,
            EVENTS.c.resource_id,
            EVENTS.c.attempts,
            EVENTS.c.received_at,
            first_body_query(event_id).scalar_subquery().label("body"),
        )
    )


def _claim_in_one_statement(
    engine: Engine, event_id: str, now: datetime, lease_seconds: float
) -> ClaimedEvent | Busy | None:
    """On PostgreSQL the claim and the attempt's read are one autocommitted statement (the
    claim a data-modifying CTE, the attempt outer-joined to what it returns): one round trip
    where a transaction took five (ping, BEGIN, two statements, COMMIT)."""
    parameters = {
        "claim_event_id": event_id,
        "claim_now": now,
        "claim_stale": now - timedelta(seconds=lease_seconds),
    }
    with single_statements(engine) as conn:
        row = conn.execute(_claim_query(), parameters).mappings().first()
    if row is None:
        with transaction(engine, write=False) as conn:
            return _busy_or_settled(conn, event_id, now, lease_seconds)
    return ClaimedEvent(
        event_id,
        row["event_type"],
        row["event_resource_id"],
        _data_of(row["event_body"]),
        row["event_attempts"],
        row["event_received_at"],
        view_of(row),
    )


@cache
def _claim_query() -> Select[Any]:
    """`_claim_in_one_statement`'s statement, built once with bound parameters: building
    it for each claim took a third of the claim's time in a worker."""
    event_id = bindparam("claim_event_id", type_=String())
    now = bindparam("claim_now", type_=UTCDateTime())
    stale = bindparam("claim_stale", type_=UTCDateTime())
    claimed = _claim(event_id, now, _claimable_unless_held_since(stale)).cte("claimed")
    about_generation = and_(
        ATTEMPTS.c.generation_id == claimed.c.resource_id,
        claimed.c.type.in_(sorted(GENERATION_EVENTS)),
    )
    return select(
        claimed.c.type.label("event_type"),
        claimed.c.resource_id.label("event_resource_id"),
        claimed.c.attempts.label("event_attempts"),
        claimed.c.received_at.label("event_received_at"),
        claimed.c.body.label("event_body"),
        *attempt_columns(),
    ).select_from(
        claimed.outerjoin(ATTEMPTS, about_generation).outerjoin(
            JOBS, JOBS.c.id == ATTEMPTS.c.job_id
        )
    )


def _claimed(event_id: str, row: Row[Any], attempt: AttemptView | None) -> ClaimedEvent:
    return ClaimedEvent(
        event_id,
        row.type,
        row.resource_id,
        _data_of(row.body),
        row.attempts,
        row.received_at,
        attempt,
    )


def _busy_or_settled(
    conn: Connection, event_id: str, now: datetime, lease_seconds: float
) -> Busy | None:
    row = conn.execute(
        select(EVENTS.c.status, EVENTS.c.started_at).where(EVENTS.c.id == event_id)
    ).first()
    remaining = (
        None if row is None else lease_remaining(row.status, row.started_at, now, lease_seconds)
    )
    if remaining is None:
        return None
    return Busy(max(remaining, 0.0) + 1.0)


def _data_of(body: bytes | None) -> dict[str, Any]:
    if not body:
        return {}
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError:
        return {}
    data = document.get("data") if isinstance(document, dict) else None
    return data if isinstance(data, dict) else {}


def settle_event(engine: Engine, event_id: str, status: EventStatus, error: str | None) -> None:
    """Record the outcome: processed, ignored or failed (with the reason)."""
    with transaction(engine) as conn:
        settle_on(conn, event_id, status, error)


def settle_on(conn: Connection, event_id: str, status: EventStatus, error: str | None) -> None:
    """As `settle_event`, in `conn`'s transaction (with the change the outcome is)."""
    conn.execute(settling(event_id, status, error, utcnow()))


def settling(event_id: Any, status: EventStatus, error: str | None, now: Any) -> Update:
    """The statement `settle_on` runs (for a caller that makes it part of another; `event_id`
    and `now`: values, or bound parameters of them)."""
    return (
        update(EVENTS)
        .where(EVENTS.c.id == event_id)
        .values(status=status.value, last_error=error, finished_at=now, updated_at=now)
    )


def hand_back(engine: Engine, event_id: str, error: str) -> None:
    """Back to `queued` (a delayed message will bring it back), noting why."""
    now = utcnow()
    with transaction(engine) as conn:
        conn.execute(
            update(EVENTS)
            .where(EVENTS.c.id == event_id, EVENTS.c.status == LEASED_STATE.value)
            .values(status=EventStatus.QUEUED.value, last_error=error, updated_at=now)
        )
