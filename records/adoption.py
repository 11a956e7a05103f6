"""Submissions whose outcome is unknown, and the generations adopted by them.

A submission records its intent (an attempt `submitting`, with `intent_at`) before it calls
`POST /v1/generations`, and the generation id in the same transaction as the answer. A
worker that dies in between leaves the intent alone: the upstream may or may not have made
(and charged) a generation. Such a job is never submitted again on its own; a generation
matched to it is adopted, or the job waits for an operator (`needs_review`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, Select, and_, delete, select, update
from sqlalchemy.exc import IntegrityError

from config.database import transaction
from records.customer_repo import count_ready
from records.jobs import (
    ATTEMPTS,
    JOBS,
    UNKNOWN_OUTCOME_ATTEMPT_STATES,
    AttemptStatus,
    Job,
    JobStatus,
)
from records.outbox import notify_job
from records.outbox_tables import EventType
from records.types import utcnow

# A job whose submission outcome is unknown is in one of these.
_WAITING_JOB_STATES = (JobStatus.SUBMITTING.value, JobStatus.NEEDS_REVIEW.value)
_UNKNOWN_ATTEMPT_STATES = sorted(state.value for state in UNKNOWN_OUTCOME_ATTEMPT_STATES)


@dataclass(frozen=True)
class UnknownSubmission:
    """An attempt that may have made a generation nobody recorded, with its job's facts."""

    attempt_id: str
    job_id: str
    number: int
    attempt_status: str
    job_status: str
    format: str
    intent_at: datetime | None
    job_updated_at: datetime


def unknown_submissions(engine: Engine) -> list[UnknownSubmission]:
    """Every submission of ours whose generation id is not (yet) known."""
    query = (
        select(
            ATTEMPTS.c.id,
            ATTEMPTS.c.job_id,
            ATTEMPTS.c.number,
            ATTEMPTS.c.status,
            ATTEMPTS.c.intent_at,
            JOBS.c.status.label("job_status"),
            JOBS.c.format,
            JOBS.c.updated_at,
        )
        .join(JOBS, JOBS.c.id == ATTEMPTS.c.job_id)
        .where(
            ATTEMPTS.c.status.in_(_UNKNOWN_ATTEMPT_STATES),
            ATTEMPTS.c.generation_id.is_(None),
            JOBS.c.status.in_(_WAITING_JOB_STATES),
            JOBS.c.tracked.is_(True),
        )
    )
    with transaction(engine, write=False) as conn:
        return [
            UnknownSubmission(
                attempt_id=row.id,
                job_id=row.job_id,
                number=row.number,
                attempt_status=row.status,
                job_status=row.job_status,
                format=row.format,
                intent_at=row.intent_at,
                job_updated_at=row.updated_at,
            )
            for row in conn.execute(query)
        ]


def adopt_generation(
    engine: Engine, attempt_id: str, generation_id: str, submitted_at: datetime | None = None
) -> bool:
    """The generation is the one this unknown-outcome attempt made; the job is `submitted`.

    False when the attempt was settled meanwhile, or the generation is recorded elsewhere.
    """
    now = utcnow()
    try:
        with transaction(engine) as conn:
            return _adopt(conn, attempt_id, generation_id, submitted_at or now, now)
    except IntegrityError:
        return False


def _adopt(
    conn: Connection, attempt_id: str, generation_id: str, submitted_at: datetime, now: datetime
) -> bool:
    row = conn.execute(
        select(ATTEMPTS.c.job_id, ATTEMPTS.c.number).where(
            ATTEMPTS.c.id == attempt_id,
            ATTEMPTS.c.status.in_(_UNKNOWN_ATTEMPT_STATES),
            ATTEMPTS.c.generation_id.is_(None),
        )
    ).first()
    if row is None:
        return False
    moved = conn.execute(
        update(JOBS)
        .where(JOBS.c.id == row.job_id, JOBS.c.status.in_(_WAITING_JOB_STATES))
        .values(
            status=JobStatus.SUBMITTED.value,
            attempts_made=row.number,
            next_attempt_at=None,
            last_error=None,
            updated_at=now,
        )
    ).rowcount
    if not moved:
        return False
    conn.execute(
        update(ATTEMPTS)
        .where(ATTEMPTS.c.id == attempt_id)
        .values(
            generation_id=generation_id,
            status=AttemptStatus.SUBMITTED.value,
            submitted_at=submitted_at,
            error=None,
        )
    )
    return True


def answer_lost(engine: Engine, attempt_id: str, job_id: str, reason: str) -> None:
    """The POST may have reached the upstream, its answer did not: the outcome is unknown."""
    now = utcnow()
    with transaction(engine) as conn:
        conn.execute(
            update(ATTEMPTS)
            .where(ATTEMPTS.c.id == attempt_id, ATTEMPTS.c.status == AttemptStatus.SUBMITTING)
            .values(status=AttemptStatus.UNKNOWN.value, error=reason)
        )
        conn.execute(
            update(JOBS)
            .where(JOBS.c.id == job_id, JOBS.c.status == JobStatus.SUBMITTING.value)
            .values(
                last_error=f"submission outcome unknown ({reason}); not resubmitted, "
                "waiting for its generation's webhook to be adopted",
                updated_at=now,
            )
        )


@dataclass(frozen=True)
class UnknownSweep:
    marked_unknown: list[str]  # jobs whose submission outlived its lease just now
    needs_review: list[str]  # jobs handed to an operator just now


def settle_unknown_submissions(
    engine: Engine, *, lease_seconds: float, review_after_seconds: float, limit: int = 500
) -> UnknownSweep:
    """Submissions past their lease: the outcome is unknown (and the job says so); past
    `review_after_seconds` with no generation adopted, the job needs an operator."""
    now = utcnow()
    abandoned = now - timedelta(seconds=lease_seconds)
    overdue = now - timedelta(seconds=review_after_seconds)
    with transaction(engine) as conn:
        stale = list(
            conn.execute(
                select(ATTEMPTS.c.id, ATTEMPTS.c.job_id)
                .join(JOBS, JOBS.c.id == ATTEMPTS.c.job_id)
                .where(
                    ATTEMPTS.c.status == AttemptStatus.SUBMITTING.value,
                    ATTEMPTS.c.generation_id.is_(None),
                    JOBS.c.status == JobStatus.SUBMITTING.value,
                    JOBS.c.updated_at <= abandoned,
                )
                .limit(limit)
            )
        )
        for attempt_id, job_id in stale:
            conn.execute(
                update(ATTEMPTS)
                .where(ATTEMPTS.c.id == attempt_id)
                .values(status=AttemptStatus.UNKNOWN.value)
            )
            conn.execute(
                update(JOBS)
                .where(JOBS.c.id == job_id, JOBS.c.status == JobStatus.SUBMITTING.value)
                .values(last_error=unknown_reason(review_after_seconds), updated_at=now)
            )
        review = list(
            conn.execute(
                select(ATTEMPTS.c.id, ATTEMPTS.c.job_id, ATTEMPTS.c.intent_at)
                .join(JOBS, JOBS.c.id == ATTEMPTS.c.job_id)
                .where(
                    ATTEMPTS.c.status == AttemptStatus.UNKNOWN.value,
                    ATTEMPTS.c.generation_id.is_(None),
                    JOBS.c.status == JobStatus.SUBMITTING.value,
                    and_(
                        # A submission from before intents were recorded has no intent_at.
                        (ATTEMPTS.c.intent_at.is_(None) & (JOBS.c.updated_at <= overdue))
                        | (ATTEMPTS.c.intent_at <= overdue)
                    ),
                )
                .limit(limit)
            )
        )
        for _, job_id, intent_at in review:
            conn.execute(
                update(JOBS)
                .where(JOBS.c.id == job_id, JOBS.c.status == JobStatus.SUBMITTING.value)
                .values(
                    status=JobStatus.NEEDS_REVIEW.value,
                    last_error=review_reason(job_id, intent_at),
                    updated_at=now,
                )
            )
    return UnknownSweep([job_id for _, job_id in stale], [job_id for _, job_id, _ in review])


def unknown_reason(review_after_seconds: float) -> str:
    return (
        "submission outcome unknown: the worker stopped between POST /v1/generations and "
        "recording its answer; not resubmitted, waiting for its generation's webhook to be "
        f"adopted (an operator is asked after {review_after_seconds:g}s)"
    )


def review_reason(job_id: str, intent_at: datetime | None) -> str:
    when = "an unknown time" if intent_at is None else intent_at.isoformat()
    return (
        f"submission outcome unknown since {when} and no generation was matched to it: "
        "look upstream for a generation made then; `voicehook jobs adopt "
        f"{job_id} GENERATION` if there is one, else `voicehook jobs resubmit {job_id}`"
    )


def resubmit_job(engine: Engine, job_id: str) -> bool:
    """An operator's word: forget the open attempts of a job in review and submit anew."""
    now = utcnow()
    with transaction(engine) as conn:
        moved = conn.execute(
            update(JOBS)
            .where(JOBS.c.id == job_id, JOBS.c.status == JobStatus.NEEDS_REVIEW.value)
            .values(
                status=JobStatus.RETRY_WAIT.value,
                next_attempt_at=now,
                last_error=None,
                updated_at=now,
            )
        ).rowcount
        if not moved:
            return False
        open_states: Sequence[str] = [*_UNKNOWN_ATTEMPT_STATES, AttemptStatus.SUBMITTED.value]
        conn.execute(
            update(ATTEMPTS)
            .where(ATTEMPTS.c.job_id == job_id, ATTEMPTS.c.status.in_(open_states))
            .values(
                status=AttemptStatus.ABANDONED.value,
                error="resubmitted by an operator",
                completed_at=now,
            )
        )
        return True


@dataclass(frozen=True)
class GenerationOwner:
    """Who has recorded a generation: a tracked job of ours, an untracked one, or nobody."""

    job_id: str | None
    tracked: bool
    audio_path: str | None
    format: str | None


def generation_owner(engine: Engine, generation_id: str) -> GenerationOwner:
    with transaction(engine, write=False) as conn:
        row = conn.execute(
            select(JOBS.c.id, JOBS.c.tracked, JOBS.c.audio_path, JOBS.c.format)
            .join(ATTEMPTS, ATTEMPTS.c.job_id == JOBS.c.id)
            .where(ATTEMPTS.c.generation_id == generation_id)
        ).first()
    if row is None:
        return GenerationOwner(None, False, None, None)
    return GenerationOwner(row.id, bool(row.tracked), row.audio_path, row.format)


def open_unknown_attempt(engine: Engine, job_id: str) -> tuple[str, datetime | None] | None:
    """(attempt id, intent time) of the job's submission of unknown outcome, if it has one."""
    with transaction(engine, write=False) as conn:
        row = conn.execute(
            _open_unknown(select(ATTEMPTS.c.id, ATTEMPTS.c.intent_at), job_id)
        ).first()
    return None if row is None else (row.id, row.intent_at)


def _open_unknown(query: Select[Any], job_id: str) -> Select[Any]:
    """`query` narrowed to the job's attempt of unknown outcome, while the job still waits."""
    return query.join(JOBS, JOBS.c.id == ATTEMPTS.c.job_id).where(
        ATTEMPTS.c.job_id == job_id,
        ATTEMPTS.c.status.in_(_UNKNOWN_ATTEMPT_STATES),
        ATTEMPTS.c.generation_id.is_(None),
        JOBS.c.status.in_(_WAITING_JOB_STATES),
    )


def take_over_untracked(
    engine: Engine, job_id: str, generation_id: str, audio_path: str | None
) -> bool:
    """An operator's word: the untracked job's generation is this job's unknown attempt.

    Its attempt, audio (now at `audio_path`) and usage move to the job; the untracked job
    goes. False when the job has no open unknown attempt or the generation is not untracked.
    """
    with transaction(engine) as conn:
        unknown = conn.execute(
            _open_unknown(select(ATTEMPTS.c.id, ATTEMPTS.c.number), job_id)
        ).first()
        stray = conn.execute(
            select(ATTEMPTS.c.id)
            .join(JOBS, JOBS.c.id == ATTEMPTS.c.job_id)
            .where(ATTEMPTS.c.generation_id == generation_id, JOBS.c.tracked.is_(False))
        ).first()
        if unknown is None or stray is None:
            return False
        move_stray_attempt(
            conn,
            job_id=job_id,
            replaced_attempt_id=unknown.id,
            number=unknown.number,
            generation_id=generation_id,
            estimated_credits=None,
            audio_path=audio_path,
        )
        return True


def move_stray_attempt(
    conn: Connection,
    *,
    job_id: str,
    replaced_attempt_id: str,
    number: int,
    generation_id: str,
    estimated_credits: int | None,
    audio_path: str | None,
) -> None:
    """Move an untracked job's attempt (and audio, if any) to the job that made it, in the
    place of `replaced_attempt_id`; `audio_path` None keeps the untracked job's path."""
    now = utcnow()
    stray = conn.execute(
        select(ATTEMPTS.c.id, ATTEMPTS.c.job_id).where(ATTEMPTS.c.generation_id == generation_id)
    ).one()
    orphan = _job(conn, stray.job_id)
    job = _job(conn, job_id)
    assert orphan is not None
    assert job is not None
    conn.execute(delete(ATTEMPTS).where(ATTEMPTS.c.id == replaced_attempt_id))
    conn.execute(
        update(ATTEMPTS)
        .where(ATTEMPTS.c.id == stray.id)
        .values(job_id=job.id, number=number, estimated_credits=estimated_credits)
    )
    values: dict[str, Any] = {
        "attempts_made": number,
        "next_attempt_at": None,
        "updated_at": now,
        "status": orphan.status,
        "last_error": None,
    }
    if orphan.status == JobStatus.READY:
        values |= {
            "audio_path": audio_path or orphan.audio_path,
            "audio_bytes": orphan.audio_bytes,
            "audio_sha256": orphan.audio_sha256,
            "audio_duration_sec": orphan.audio_duration_sec,
            "ready_at": orphan.ready_at,
            "credits": estimated_credits or 0,
        }
        count_ready(conn, job.customer_id, orphan.audio_duration_sec or 0.0, values["credits"], now)
    elif orphan.status == JobStatus.FAILED:
        retry = number < job.max_attempts
        values |= {
            "status": (JobStatus.RETRY_WAIT if retry else JobStatus.FAILED).value,
            "next_attempt_at": now,
            "last_error": orphan.last_error,
        }
    conn.execute(update(JOBS).where(JOBS.c.id == job.id).values(**values))
    conn.execute(delete(JOBS).where(JOBS.c.id == orphan.id))
    if values["status"] == JobStatus.READY:
        notify_job(conn, EventType.JOB_READY, job.id, usage_of=job.customer_id)
    elif values["status"] == JobStatus.FAILED:
        notify_job(conn, EventType.JOB_FAILED, job.id)


def _job(conn: Connection, job_id: str) -> Job | None:
    row = conn.execute(select(JOBS).where(JOBS.c.id == job_id)).mappings().first()
    return None if row is None else Job(**row)
