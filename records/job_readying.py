"""A job made ready with its audio, in one PostgreSQL statement: the job's update and what
follows from it (its attempts ready or superseded, the worker's event settled, the
customer's usage counted) as data-modifying CTEs, for `job_outcomes.complete_job` when no
notification endpoint is registered; and the pieces the transaction it falls back to shares
(`StoredAudio`, `readying`, `audio_columns`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import (
    Engine,
    Float,
    Integer,
    Select,
    String,
    Update,
    and_,
    bindparam,
    case,
    exists,
    or_,
    select,
    update,
)

from config.database import single_statements
from records.attempt_views import AttemptView
from records.claims import settling
from records.customer_usage import counting, shard_of
from records.events import EVENTS, EventStatus
from records.jobs import ATTEMPTS, CUSTOMER_USAGE, JOBS, AttemptStatus, JobStatus
from records.outbox_tables import NOTIFY_ENDPOINTS
from records.types import UTCDateTime


@dataclass(frozen=True)
class StoredAudio:
    """A job's verified audio as a store holds it: the store's name and the object's key."""

    store: str
    relative_path: str
    size: int
    sha256: str
    duration_sec: float


def readying(job_id: Any, audio: dict[str, Any], credits: Any, now: Any) -> Update:
    """The job ready with its audio (`audio_columns`), unless it already is; each argument
    a value, or a bound parameter of one."""
    return (
        update(JOBS)
        .where(JOBS.c.id == job_id, JOBS.c.status != JobStatus.READY.value)
        .values(
            status=JobStatus.READY.value,
            **audio,
            credits=JOBS.c.credits + credits,
            last_error=None,
            next_attempt_at=None,
            ready_at=now,
            updated_at=now,
        )
    )


def audio_columns(audio: StoredAudio) -> dict[str, Any]:
    """The job's columns that say where its audio is and what it is."""
    return {
        "audio_path": audio.relative_path,
        "audio_store": audio.store,
        "audio_bytes": audio.size,
        "audio_sha256": audio.sha256,
        "audio_duration_sec": audio.duration_sec,
    }


def complete_in_one_statement(
    engine: Engine, view: AttemptView, audio: StoredAudio, settles: str | None, now: datetime
) -> bool | None:
    """`complete_job` as one autocommitted PostgreSQL statement (data-modifying CTEs, each
    seeing what the job's update returned): one round trip where the transaction took eight.

    Each part is conditioned on no notification endpoint existing, in the statement's own
    snapshot; when one does, nothing is changed and None says so (the caller runs the
    transaction, which writes the notifications with the change). Without endpoints the
    transaction would have written none either: the same outcome, atomically.
    """
    parameters: dict[str, Any] = {
        "done_job_id": view.job_id,
        "done_attempt_id": view.attempt_id,
        "done_credits": view.estimated_credits or 0,
        "done_now": now,
    } | {f"done_{name}": value for name, value in audio_columns(audio).items()}
    if settles is not None:
        parameters["done_event_id"] = settles
    if view.customer_id is not None:
        parameters |= {"done_customer_id": view.customer_id, "done_shard": shard_of(view.job_id)}
    query = _completion_query(settles=settles is not None, counts=view.customer_id is not None)
    with single_statements(engine) as conn:
        row = conn.execute(query, parameters).one()
    return bool(row.changed) if row.open else None


@cache
def _completion_query(*, settles: bool, counts: bool) -> Select[bool, bool]:
    """`complete_in_one_statement`'s statement, built once per shape with bound parameters
    (building it for each event took a third of the completion's time in a worker)."""
    job_id = bindparam("done_job_id", type_=String())
    now = bindparam("done_now", type_=UTCDateTime())
    credits = bindparam("done_credits", type_=Integer())
    audio = {
        name: bindparam(f"done_{name}", type_=JOBS.c[name].type)
        for name in ("audio_path", "audio_store", "audio_bytes", "audio_sha256")
    } | {"audio_duration_sec": bindparam("done_audio_duration_sec", type_=Float())}
    no_endpoints = ~exists(select(NOTIFY_ENDPOINTS.c.id))
    readied = (
        readying(job_id, audio, credits, now)
        .where(no_endpoints)
        .returning(JOBS.c.id)
        .cte("readied")
    )
    changed = exists(select(readied.c.id))
    this = ATTEMPTS.c.id == bindparam("done_attempt_id", type_=String())
    in_flight = ATTEMPTS.c.status.in_([AttemptStatus.SUBMITTED, AttemptStatus.SUBMITTING])
    parts = [
        update(ATTEMPTS)
        .where(
            no_endpoints,
            or_(and_(changed, ATTEMPTS.c.job_id == job_id, this | in_flight), and_(~changed, this)),
        )
        .values(
            status=case((this, AttemptStatus.READY.value), else_=AttemptStatus.SUPERSEDED.value),
            completed_at=case((this, now), else_=ATTEMPTS.c.completed_at),
        )
        .returning(ATTEMPTS.c.id)
        .cte("attempts_set")
    ]
    if settles:
        event_id = bindparam("done_event_id", type_=String())
        parts.append(
            settling(event_id, EventStatus.PROCESSED, None, now)
            .where(no_endpoints)
            .returning(EVENTS.c.id)
            .cte("settled")
        )
    if counts:
        usage = {
            "audio_seconds": audio["audio_duration_sec"],
            "credits_spent": credits,
            "jobs_ready": 1,
        }
        customer_id = bindparam("done_customer_id", type_=String())
        shard = bindparam("done_shard", type_=Integer())
        parts.append(
            counting("postgresql", customer_id, shard, now, usage, when=changed)
            .returning(CUSTOMER_USAGE.c.shard)
            .cte("counted")
        )
    return select(changed.label("changed"), no_endpoints.label("open")).add_cte(*parts)
