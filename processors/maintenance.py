"""Periodic repairs: jobs whose submission message was lost, and submissions that died.

Both are rare (a broker outage, a killed worker) and both are settled from the database,
the store of record: a duplicate submission message is harmless, because a submission
claims its job with a conditional update before calling the API.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import timedelta
from pathlib import Path

from sqlalchemy import Engine, and_, or_, select, update

from config.database import session_scope
from processors.download import remove_stale_partials
from records.jobs import Job, JobStatus, VoiceStatus
from records.types import utcnow

JOBS = Job.metadata.tables["jobs"]
VOICES = Job.metadata.tables["voices"]


def recover_jobs(
    engine: Engine,
    enqueue_submissions: Callable[[Sequence[str]], None],
    *,
    forgotten_after_seconds: float,
    submitting_lease_seconds: float,
    limit: int = 500,
) -> int:
    """Re-enqueue due jobs nobody has touched for a while; free jobs a dead worker held."""
    now = utcnow()
    forgotten = now - timedelta(seconds=forgotten_after_seconds)
    abandoned = now - timedelta(seconds=submitting_lease_seconds)
    with session_scope(engine) as session:
        held = list(
            session.execute(
                select(JOBS.c.id).where(
                    JOBS.c.status == JobStatus.SUBMITTING.value, JOBS.c.updated_at <= abandoned
                )
            ).scalars()
        )
        if held:
            session.execute(
                update(JOBS)
                .where(JOBS.c.id.in_(held), JOBS.c.status == JobStatus.SUBMITTING.value)
                .values(status=JobStatus.RETRY_WAIT.value, next_attempt_at=now, updated_at=now)
            )
        due = or_(JOBS.c.next_attempt_at.is_(None), JOBS.c.next_attempt_at <= forgotten)
        job_ids = list(
            session.execute(
                select(JOBS.c.id)
                .where(
                    JOBS.c.status.in_([JobStatus.PENDING.value, JobStatus.RETRY_WAIT.value]),
                    and_(due, JOBS.c.updated_at <= forgotten),
                )
                .order_by(JOBS.c.created_at)
                .limit(limit)
            ).scalars()
        )
        if job_ids:
            # Touch them so the next sweep waits again before re-enqueueing.
            session.execute(update(JOBS).where(JOBS.c.id.in_(job_ids)).values(updated_at=now))
    enqueue_submissions(held + job_ids)
    return len(held) + len(job_ids)


def recover_voices(
    engine: Engine,
    enqueue_clone: Callable[[str], None],
    *,
    forgotten_after_seconds: float,
    limit: int = 100,
) -> int:
    """Re-enqueue voices still uploading that nobody has touched for a while."""
    now = utcnow()
    forgotten = now - timedelta(seconds=forgotten_after_seconds)
    with session_scope(engine) as session:
        voice_ids = list(
            session.execute(
                select(VOICES.c.id)
                .where(
                    VOICES.c.status == VoiceStatus.UPLOADING.value,
                    VOICES.c.updated_at <= forgotten,
                )
                .limit(limit)
            ).scalars()
        )
        if voice_ids:
            session.execute(update(VOICES).where(VOICES.c.id.in_(voice_ids)).values(updated_at=now))
    for voice_id in voice_ids:
        enqueue_clone(voice_id)
    return len(voice_ids)


def remove_stale_downloads(audio_dir: Path, older_than_seconds: float) -> int:
    """Delete partial files killed downloads left in AUDIO_DIR's folders; how many."""
    if not audio_dir.is_dir():
        return 0
    folders = [audio_dir, *(p for p in audio_dir.iterdir() if p.is_dir())]
    return sum(len(remove_stale_partials(folder, older_than_seconds)) for folder in folders)
