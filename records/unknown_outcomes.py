"""Submissions whose outcome is unknown: noticed, marked, and handed to an operator.

A submission records its intent (an attempt `submitting`, with `intent_at`) before it calls
`POST /v1/generations`, and the generation id in the same transaction as the answer. A
worker that dies in between leaves the intent alone: the upstream may or may not have made
(and charged) a generation. Such a job is never submitted again on its own; a generation
matched to it is adopted (`records.adoption`), or the job waits for an operator
(`needs_review`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, and_, select, update

from config.database import transaction
from records.jobs import ATTEMPTS, JOBS, UNKNOWN_OUTCOME_ATTEMPT_STATES, AttemptStatus, JobStatus
from records.types import utcnow

# A job whose submission outcome is unknown is in one of these.
WAITING_JOB_STATES = (JobStatus.SUBMITTING.value, JobStatus.NEEDS_REVIEW.value)
UNKNOWN_ATTEMPT_STATES = sorted(state.value for state in UNKNOWN_OUTCOME_ATTEMPT_STATES)


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
            ATTEMPTS.c.status.in_(UNKNOWN_ATTEMPT_STATES),
            ATTEMPTS.c.generation_id.is_(None),
            JOBS.c.status.in_(WAITING_JOB_STATES),
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
