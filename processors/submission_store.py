"""Database steps of submitting a job's next attempt; each is one short transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any, cast
from uuid import uuid4

from sqlalchemy import CursorResult, Engine, delete, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from config.database import session_scope
from processors.policy import may_submit
from processors.vpai import SubmittedGeneration
from records.jobs import Attempt, AttemptStatus, Customer, Job, JobStatus
from records.types import utcnow


@dataclass(frozen=True)
class Submission:
    job_id: str
    attempt_id: str
    number: int
    voice_id: str
    script: str
    format: str
    settings: dict[str, Any]
    customer_id: str | None
    previous_status: str


def start_submission(engine: Engine, job_id: str) -> Submission | None:
    """Claim the job (`submitting`) and open its next attempt if a submission is due now.

    The claim is a conditional update, so of two messages for one job only one submits.
    """
    now = utcnow()
    with session_scope(engine) as session:
        job = session.get(Job, job_id)
        if job is None or not may_submit(job.status, job.next_attempt_at, now):
            return None
        if job.voice_id is None or job.script is None:
            return None
        previous = job.status
        claimed = session.execute(
            update(Job)
            .where(col(Job.id) == job_id, col(Job.status) == previous)
            .values(status=JobStatus.SUBMITTING.value, updated_at=now)
        )
        if not cast(CursorResult[Any], claimed).rowcount:
            return None
        # A submission that died between its POST and its commit left this attempt behind.
        attempt = session.exec(
            select(Attempt).where(
                Attempt.job_id == job_id, Attempt.status == AttemptStatus.SUBMITTING.value
            )
        ).first()
        if attempt is None:
            attempt = Attempt(
                id=str(uuid4()),
                job_id=job_id,
                number=job.attempts_made + 1,
                status=AttemptStatus.SUBMITTING.value,
            )
            session.add(attempt)
            session.flush()
        return Submission(
            job_id=job.id,
            attempt_id=attempt.id,
            number=attempt.number,
            voice_id=job.voice_id,
            script=job.script,
            format=job.format,
            settings=dict(job.settings or {}),
            customer_id=job.customer_id,
            previous_status=previous,
        )


def submission_accepted(
    engine: Engine, submission: Submission, answer: SubmittedGeneration
) -> None:
    """Record the generation the API made for this attempt; the job is `submitted`."""
    now = utcnow()
    try:
        with session_scope(engine) as session:
            session.execute(
                update(Attempt)
                .where(col(Attempt.id) == submission.attempt_id)
                .values(
                    generation_id=answer.id,
                    status=AttemptStatus.SUBMITTED.value,
                    estimated_credits=answer.estimated_credits,
                    submitted_at=now,
                )
            )
            session.execute(
                update(Job)
                .where(col(Job.id) == submission.job_id)
                .values(
                    status=JobStatus.SUBMITTED.value,
                    attempts_made=submission.number,
                    next_attempt_at=None,
                    updated_at=now,
                )
            )
    except IntegrityError:
        # The generation's webhook overtook this commit and was taken for a stranger's.
        _adopt_untracked(engine, submission, answer)


def _adopt_untracked(engine: Engine, submission: Submission, answer: SubmittedGeneration) -> None:
    """Move the untracked job's attempt (and audio, if any) back to the job that made it."""
    now = utcnow()
    with session_scope(engine) as session:
        stray = session.exec(select(Attempt).where(Attempt.generation_id == answer.id)).one()
        orphan = session.get(Job, stray.job_id)
        job = session.get(Job, submission.job_id)
        assert orphan is not None
        assert job is not None
        session.execute(delete(Attempt).where(col(Attempt.id) == submission.attempt_id))
        session.flush()
        stray.job_id = job.id
        stray.number = submission.number
        stray.estimated_credits = answer.estimated_credits
        session.add(stray)
        job.attempts_made = submission.number
        job.next_attempt_at = None
        job.updated_at = now
        job.status = orphan.status
        if orphan.status == JobStatus.READY:
            job.audio_path, job.audio_bytes = orphan.audio_path, orphan.audio_bytes
            job.audio_sha256, job.audio_duration_sec = (
                orphan.audio_sha256,
                orphan.audio_duration_sec,
            )
            job.ready_at, job.credits = orphan.ready_at, answer.estimated_credits or 0
            _count_ready(session, job)
        elif orphan.status == JobStatus.FAILED:
            job.status = (
                JobStatus.RETRY_WAIT.value
                if job.attempts_made < job.max_attempts
                else (JobStatus.FAILED.value)
            )
            job.next_attempt_at = now
            job.last_error = orphan.last_error
        session.add(job)
        session.flush()
        session.delete(orphan)


def _count_ready(session: Session, job: Job) -> None:
    customer = session.get(Customer, job.customer_id) if job.customer_id else None
    if customer is None:
        return
    customer.audio_seconds += job.audio_duration_sec or 0.0
    customer.credits_spent += job.credits
    customer.jobs_ready += 1
    customer.updated_at = utcnow()
    session.add(customer)


def submission_postponed(engine: Engine, submission: Submission, delay: float, reason: str) -> None:
    """The API was not reached or pushed back: no attempt was made; try again after `delay`."""
    now = utcnow()
    with session_scope(engine) as session:
        session.execute(delete(Attempt).where(col(Attempt.id) == submission.attempt_id))
        session.execute(
            update(Job)
            .where(col(Job.id) == submission.job_id)
            .values(
                status=submission.previous_status,
                next_attempt_at=now + timedelta(seconds=delay),
                last_error=reason,
                updated_at=now,
            )
        )


def submission_refused(
    engine: Engine, submission: Submission, status: JobStatus, reason: str
) -> None:
    """The API refused the job itself (402 → blocked, 403/400/401 → failed)."""
    now = utcnow()
    with session_scope(engine) as session:
        session.execute(delete(Attempt).where(col(Attempt.id) == submission.attempt_id))
        session.execute(
            update(Job)
            .where(col(Job.id) == submission.job_id)
            .values(status=status.value, last_error=reason, next_attempt_at=None, updated_at=now)
        )
        if status is JobStatus.FAILED and submission.customer_id is not None:
            session.execute(
                update(Customer)
                .where(col(Customer.id) == submission.customer_id)
                .values(jobs_failed=Customer.jobs_failed + 1, updated_at=now)
            )
