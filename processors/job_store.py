"""Reads and writes of jobs, attempts and customers; each function is one short transaction.

No transaction is held open across a network call: a download or an API request happens
between two of these, so SQLite's single writer is never kept waiting on the network.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any, cast
from uuid import uuid4

from sqlalchemy import CursorResult, Engine, Result, func, update
from sqlmodel import Session, col, select

from config.database import session_scope
from processors.errors import SubmissionInFlight
from records.jobs import Attempt, AttemptStatus, Customer, Job, JobStatus
from records.types import utcnow

IN_FLIGHT_WINDOW_SECONDS = 60.0
IN_FLIGHT_RETRY_SECONDS = 2.0


@dataclass(frozen=True)
class AttemptView:
    """An attempt with what the handlers need of its job, detached from any session."""

    job_id: str
    attempt_id: str
    generation_id: str | None
    number: int
    attempt_status: str
    job_status: str
    tracked: bool
    format: str
    customer_id: str | None
    attempts_made: int
    max_attempts: int
    latest_number: int
    estimated_credits: int | None


def _view(session: Session, attempt: Attempt, job: Job) -> AttemptView:
    latest = session.exec(select(func.max(Attempt.number)).where(Attempt.job_id == job.id)).one()
    return AttemptView(
        job_id=job.id,
        attempt_id=attempt.id,
        generation_id=attempt.generation_id,
        number=attempt.number,
        attempt_status=attempt.status,
        job_status=job.status,
        tracked=job.tracked,
        format=job.format,
        customer_id=job.customer_id,
        attempts_made=job.attempts_made,
        max_attempts=job.max_attempts,
        latest_number=int(latest or attempt.number),
        estimated_credits=attempt.estimated_credits,
    )


def attempt_for_generation(
    engine: Engine, generation_id: str, *, untracked_format: str, max_attempts: int
) -> AttemptView:
    """The attempt that made this generation; an untracked job is made for a stranger.

    Raises SubmissionInFlight while a submission of ours has called the API but not yet
    recorded its generation id: a fast webhook can overtake that commit, and the
    generation is then most likely ours, not a stranger's.
    """
    with session_scope(engine, write=False) as session:
        found = _find_attempt(session, generation_id)
        if found is not None:
            return found
        if _submission_in_flight(session):
            raise SubmissionInFlight(
                IN_FLIGHT_RETRY_SECONDS,
                f"a submission is being recorded; generation {generation_id} may be its",
            )
    with session_scope(engine) as session:
        found = _find_attempt(session, generation_id)  # another worker may have made it
        if found is not None:
            return found
        now = utcnow()
        job = Job(
            id=str(uuid4()),
            tracked=False,
            format=untracked_format,
            status=JobStatus.SUBMITTED.value,
            attempts_made=1,
            max_attempts=max_attempts,
            created_at=now,
            updated_at=now,
        )
        attempt = Attempt(
            id=str(uuid4()),
            job_id=job.id,
            number=1,
            generation_id=generation_id,
            status=AttemptStatus.SUBMITTED.value,
            submitted_at=now,
        )
        session.add(job)
        session.flush()
        session.add(attempt)
        session.flush()
        return _view(session, attempt, job)


def _find_attempt(session: Session, generation_id: str) -> AttemptView | None:
    found = session.exec(
        select(Attempt, Job)
        .join(Job, col(Job.id) == col(Attempt.job_id))
        .where(Attempt.generation_id == generation_id)
    ).first()
    return None if found is None else _view(session, *found)


def _submission_in_flight(session: Session) -> bool:
    """A job of ours claimed for submission within the last minute, its generation unknown."""
    recent = utcnow() - timedelta(seconds=IN_FLIGHT_WINDOW_SECONDS)
    return (
        session.exec(
            select(Attempt.id)
            .join(Job, col(Job.id) == col(Attempt.job_id))
            .where(
                Attempt.status == AttemptStatus.SUBMITTING.value,
                col(Attempt.generation_id).is_(None),
                Job.status == JobStatus.SUBMITTING.value,
                col(Job.updated_at) >= recent,
            )
            .limit(1)
        ).first()
        is not None
    )


@dataclass(frozen=True)
class StoredAudio:
    relative_path: str
    size: int
    sha256: str
    duration_sec: float


def complete_job(engine: Engine, view: AttemptView, audio: StoredAudio) -> bool:
    """Job ready, attempt ready, customer usage counted — once. False if it was already ready."""
    now = utcnow()
    credits = view.estimated_credits or 0
    with session_scope(engine) as session:
        changed = _rows(
            session.execute(
                update(Job)
                .where(col(Job.id) == view.job_id, col(Job.status) != JobStatus.READY.value)
                .values(
                    status=JobStatus.READY.value,
                    audio_path=audio.relative_path,
                    audio_bytes=audio.size,
                    audio_sha256=audio.sha256,
                    audio_duration_sec=audio.duration_sec,
                    credits=Job.credits + credits,
                    last_error=None,
                    next_attempt_at=None,
                    ready_at=now,
                    updated_at=now,
                )
            )
        )
        _set_attempt(session, view.attempt_id, AttemptStatus.READY, None, completed=True)
        if not changed:
            return False
        session.execute(
            update(Attempt)
            .where(
                col(Attempt.job_id) == view.job_id,
                col(Attempt.id) != view.attempt_id,
                col(Attempt.status).in_([AttemptStatus.SUBMITTED, AttemptStatus.SUBMITTING]),
            )
            .values(status=AttemptStatus.SUPERSEDED.value)
        )
        if view.customer_id is not None:
            session.execute(
                update(Customer)
                .where(col(Customer.id) == view.customer_id)
                .values(
                    audio_seconds=Customer.audio_seconds + audio.duration_sec,
                    credits_spent=Customer.credits_spent + credits,
                    jobs_ready=Customer.jobs_ready + 1,
                    updated_at=now,
                )
            )
        return True


def record_attempt(
    engine: Engine, attempt_id: str, status: AttemptStatus, error: str | None
) -> None:
    """Note what became of an attempt without touching its job."""
    with session_scope(engine) as session:
        _set_attempt(session, attempt_id, status, error, completed=True)


def schedule_retry(engine: Engine, view: AttemptView, error: str | None, delay: float) -> bool:
    """Attempt failed, job waits for its next attempt; False if another worker got there first."""
    now = utcnow()
    with session_scope(engine) as session:
        changed = _set_attempt_if(session, view, AttemptStatus.FAILED, error)
        if not changed:
            return False
        session.execute(
            update(Job)
            .where(col(Job.id) == view.job_id, col(Job.status) == view.job_status)
            .values(
                status=JobStatus.RETRY_WAIT.value,
                next_attempt_at=now + timedelta(seconds=delay),
                last_error=error,
                updated_at=now,
            )
        )
        return True


def fail_job(engine: Engine, view: AttemptView, reason: str) -> bool:
    """Attempt and job failed for good; the customer's failed-job count goes up once."""
    now = utcnow()
    with session_scope(engine) as session:
        _set_attempt_if(session, view, AttemptStatus.FAILED, reason)
        changed = _rows(
            session.execute(
                update(Job)
                .where(
                    col(Job.id) == view.job_id,
                    col(Job.status).not_in([JobStatus.READY.value, JobStatus.FAILED.value]),
                )
                .values(status=JobStatus.FAILED.value, last_error=reason, updated_at=now)
            )
        )
        if changed and view.customer_id is not None:
            session.execute(
                update(Customer)
                .where(col(Customer.id) == view.customer_id)
                .values(jobs_failed=Customer.jobs_failed + 1, updated_at=now)
            )
        return bool(changed)


def _set_attempt(
    session: Session, attempt_id: str, status: AttemptStatus, error: str | None, *, completed: bool
) -> None:
    values: dict[str, Any] = {"status": status.value}
    if error is not None:
        values["error"] = error
    if completed:
        values["completed_at"] = utcnow()
    session.execute(update(Attempt).where(col(Attempt.id) == attempt_id).values(**values))


def _set_attempt_if(
    session: Session, view: AttemptView, status: AttemptStatus, error: str | None
) -> bool:
    statement = (
        update(Attempt)
        .where(col(Attempt.id) == view.attempt_id, col(Attempt.status) == view.attempt_status)
        .values(status=status.value, error=error, completed_at=utcnow())
    )
    return _rows(session.execute(statement)) > 0


def _rows(result: Result[Any]) -> int:
    """Rows an UPDATE changed (the conditional updates above are how races are settled)."""
    return int(cast(CursorResult[Any], result).rowcount)
