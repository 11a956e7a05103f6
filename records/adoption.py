"""Generations adopted by submissions of unknown outcome, and the operator's word on them.

A generation matched to a job's unknown-outcome attempt (by reconciliation, its webhook or
an operator's `voicehook jobs adopt`) becomes that attempt's; `resubmit_job` is the
operator's other answer: forget the open attempts and submit anew.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, Select, select, update
from sqlalchemy.exc import IntegrityError

from config.database import transaction
from records.audio_records import AUDIO_STORE
from records.jobs import ATTEMPTS, JOBS, AttemptStatus, JobStatus
from records.stray_attempts import move_stray_attempt
from records.types import utcnow
from records.unknown_outcomes import UNKNOWN_ATTEMPT_STATES, WAITING_JOB_STATES


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
            ATTEMPTS.c.status.in_(UNKNOWN_ATTEMPT_STATES),
            ATTEMPTS.c.generation_id.is_(None),
        )
    ).first()
    if row is None:
        return False
    moved = conn.execute(
        update(JOBS)
        .where(JOBS.c.id == row.job_id, JOBS.c.status.in_(WAITING_JOB_STATES))
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
        open_states: Sequence[str] = [*UNKNOWN_ATTEMPT_STATES, AttemptStatus.SUBMITTED.value]
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
    """Who has recorded a generation: a tracked job of ours, an untracked one, or nobody;
    and, when that job keeps audio, where (store and key) and what it is."""

    job_id: str | None
    tracked: bool
    audio_path: str | None
    format: str | None
    audio_store: str | None = None
    audio_sha256: str | None = None
    audio_duration_sec: float | None = None


def generation_owner(engine: Engine, generation_id: str) -> GenerationOwner:
    """The job that recorded `generation_id`; its audio only while it is kept (not pruned)."""
    with transaction(engine, write=False) as conn:
        row = conn.execute(
            select(
                JOBS.c.id,
                JOBS.c.tracked,
                JOBS.c.audio_path,
                JOBS.c.format,
                AUDIO_STORE.label("audio_store"),
                JOBS.c.audio_sha256,
                JOBS.c.audio_duration_sec,
                JOBS.c.audio_pruned_at,
            )
            .join(ATTEMPTS, ATTEMPTS.c.job_id == JOBS.c.id)
            .where(ATTEMPTS.c.generation_id == generation_id)
        ).first()
    if row is None:
        return GenerationOwner(None, False, None, None)
    kept = row.audio_pruned_at is None
    return GenerationOwner(
        row.id,
        bool(row.tracked),
        row.audio_path if kept else None,
        row.format,
        row.audio_store,
        row.audio_sha256,
        row.audio_duration_sec,
    )


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
        ATTEMPTS.c.status.in_(UNKNOWN_ATTEMPT_STATES),
        ATTEMPTS.c.generation_id.is_(None),
        JOBS.c.status.in_(WAITING_JOB_STATES),
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
