"""An untracked job's attempt moved to the job that made its generation."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, delete, select, update

from records.customer_usage import count_ready
from records.jobs import ATTEMPTS, JOBS, Job, JobStatus
from records.outbox import notify_job
from records.outbox_tables import EventType
from records.types import utcnow


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
    place of `replaced_attempt_id`; `audio_path` None keeps the untracked job's key. The
    audio stays in the untracked job's store either way."""
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
            "audio_store": orphan.audio_store,
            "audio_pruned_at": orphan.audio_pruned_at,
            "audio_bytes": orphan.audio_bytes,
            "audio_sha256": orphan.audio_sha256,
            "audio_duration_sec": orphan.audio_duration_sec,
            "ready_at": orphan.ready_at,
            "credits": estimated_credits or 0,
        }
        seconds = orphan.audio_duration_sec or 0.0
        count_ready(
            conn, job.customer_id, job.id, seconds=seconds, credits=values["credits"], now=now
        )
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
