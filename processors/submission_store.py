"""Database steps of submitting a job's next attempt; each is one short transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any, cast
from uuid import uuid4

from sqlalchemy import CursorResult, Engine, delete, update
from sqlmodel import col, select

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
    now = utcnow()
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
