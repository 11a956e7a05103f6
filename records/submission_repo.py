"""Submitting a job's next attempt, step by step; each step is one short transaction.

The job is claimed (`submitting`) before the API is called and settled after it answers,
so no transaction is held across the call.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import uuid4

from sqlalchemy import Connection, Engine, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from config.database import transaction
from records.customer_usage import count_failed
from records.jobs import (
    ATTEMPTS,
    JOBS,
    SUBMITTABLE_JOB_STATES,
    UNKNOWN_OUTCOME_ATTEMPT_STATES,
    Attempt,
    AttemptStatus,
    Job,
    JobStatus,
)
from records.outbox import notify_job
from records.outbox_tables import EventType
from records.stray_attempts import move_stray_attempt
from records.types import utcnow


def may_submit(job_status: str, next_attempt_at: datetime | None, now: datetime) -> bool:
    """Whether a submission message should act now (others are stale or early duplicates)."""
    if job_status not in SUBMITTABLE_JOB_STATES:
        return False
    return next_attempt_at is None or next_attempt_at <= now


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


def _job(conn: Connection, job_id: str) -> Job | None:
    row = conn.execute(select(JOBS).where(JOBS.c.id == job_id)).mappings().first()
    return None if row is None else Job(**row)


def start_submission(engine: Engine, job_id: str) -> Submission | None:
    """Claim the job (`submitting`) and open its next attempt if a submission is due now.

    The claim is a conditional update, so of two messages for one job only one submits.
    """
    now = utcnow()
    with transaction(engine) as conn:
        job = _job(conn, job_id)
        if job is None or not may_submit(job.status, job.next_attempt_at, now):
            return None
        if job.voice_id is None or job.script is None:
            return None
        previous = job.status
        # A submission whose outcome is unknown is never made again on its own: that
        # could be a second paid generation (`records.unknown_outcomes` settles it).
        unsettled = conn.execute(
            select(ATTEMPTS.c.id).where(
                ATTEMPTS.c.job_id == job_id,
                ATTEMPTS.c.status.in_(sorted(s.value for s in UNKNOWN_OUTCOME_ATTEMPT_STATES)),
            )
        ).first()
        if unsettled is not None:
            return None
        claimed = conn.execute(
            update(JOBS)
            .where(JOBS.c.id == job_id, JOBS.c.status == previous)
            .values(status=JobStatus.SUBMITTING.value, last_error=None, updated_at=now)
        ).rowcount
        if not claimed:
            return None
        latest = conn.execute(
            select(func.max(ATTEMPTS.c.number)).where(ATTEMPTS.c.job_id == job_id)
        ).scalar()
        # The intent, before the POST: if the answer is lost, this says when it was made.
        attempt = Attempt(
            id=str(uuid4()),
            job_id=job_id,
            number=max(job.attempts_made, int(latest or 0)) + 1,
            status=AttemptStatus.SUBMITTING.value,
            intent_at=now,
        )
        conn.execute(insert(ATTEMPTS).values(asdict(attempt)))
        attempt_id, number = attempt.id, attempt.number
        return Submission(
            job_id=job.id,
            attempt_id=attempt_id,
            number=number,
            voice_id=job.voice_id,
            script=job.script,
            format=job.format,
            settings=dict(job.settings or {}),
            customer_id=job.customer_id,
            previous_status=previous,
        )


def submission_accepted(
    engine: Engine, submission: Submission, generation_id: str, estimated_credits: int | None
) -> None:
    """Record the generation the API made for this attempt; the job is `submitted`.

    Only while the attempt is still open: a worker that outlived its lease may find its
    attempt adopted (by this very generation's webhook) or abandoned by an operator.
    """
    now = utcnow()
    open_states = sorted(state.value for state in UNKNOWN_OUTCOME_ATTEMPT_STATES)
    try:
        with transaction(engine) as conn:
            recorded = conn.execute(
                update(ATTEMPTS)
                .where(
                    ATTEMPTS.c.id == submission.attempt_id,
                    ATTEMPTS.c.status.in_(open_states),
                    ATTEMPTS.c.generation_id.is_(None),
                )
                .values(
                    generation_id=generation_id,
                    status=AttemptStatus.SUBMITTED.value,
                    estimated_credits=estimated_credits,
                    submitted_at=now,
                )
            ).rowcount
            if not recorded:
                _note_credits(conn, submission, generation_id, estimated_credits)
                return
            conn.execute(
                update(JOBS)
                .where(
                    JOBS.c.id == submission.job_id,
                    JOBS.c.status.in_([JobStatus.SUBMITTING.value, JobStatus.NEEDS_REVIEW.value]),
                )
                .values(
                    status=JobStatus.SUBMITTED.value,
                    attempts_made=submission.number,
                    next_attempt_at=None,
                    last_error=None,
                    updated_at=now,
                )
            )
    except IntegrityError:
        # The generation's webhook overtook this commit and was taken for a stranger's.
        _adopt_untracked(engine, submission, generation_id, estimated_credits)


def _note_credits(
    conn: Connection, submission: Submission, generation_id: str, estimated_credits: int | None
) -> None:
    """The attempt was adopted meanwhile: the answer still tells what it costs."""
    conn.execute(
        update(ATTEMPTS)
        .where(
            ATTEMPTS.c.id == submission.attempt_id,
            ATTEMPTS.c.generation_id == generation_id,
            ATTEMPTS.c.estimated_credits.is_(None),
        )
        .values(estimated_credits=estimated_credits)
    )


def _adopt_untracked(
    engine: Engine, submission: Submission, generation_id: str, estimated_credits: int | None
) -> None:
    """Move the untracked job's attempt (and audio, if any) back to the job that made it."""
    with transaction(engine) as conn:
        move_stray_attempt(
            conn,
            job_id=submission.job_id,
            replaced_attempt_id=submission.attempt_id,
            number=submission.number,
            generation_id=generation_id,
            estimated_credits=estimated_credits,
            audio_path=None,
        )


def submission_postponed(engine: Engine, submission: Submission, delay: float, reason: str) -> None:
    """The API was not reached or pushed back: no attempt was made; try again after `delay`."""
    now = utcnow()
    with transaction(engine) as conn:
        _withdraw(
            conn,
            submission,
            status=submission.previous_status,
            next_attempt_at=now + timedelta(seconds=delay),
            last_error=reason,
            updated_at=now,
        )


def submission_refused(
    engine: Engine, submission: Submission, status: JobStatus, reason: str
) -> None:
    """The API refused the job itself (402 → blocked, 403/400/401 → failed)."""
    now = utcnow()
    with transaction(engine) as conn:
        _withdraw(
            conn,
            submission,
            status=status.value,
            last_error=reason,
            next_attempt_at=None,
            updated_at=now,
        )
        if status is JobStatus.FAILED:
            count_failed(conn, submission.customer_id, submission.job_id, now)
        usage_of = submission.customer_id if status is JobStatus.FAILED else None
        event = EventType.JOB_FAILED if status is JobStatus.FAILED else EventType.JOB_BLOCKED
        notify_job(conn, event, submission.job_id, usage_of=usage_of)


def _withdraw(conn: Connection, submission: Submission, **job_values: object) -> None:
    """No generation was made: the attempt goes, and the job takes `job_values`."""
    conn.execute(delete(ATTEMPTS).where(ATTEMPTS.c.id == submission.attempt_id))
    conn.execute(update(JOBS).where(JOBS.c.id == submission.job_id).values(**job_values))
