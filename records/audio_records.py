"""Where each job's audio lives, and what happened to it: served, restored after a store lost
it, moved to another store, pruned by retention. Each function is one short transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Engine, func, literal, select, update

from config.database import transaction
from records.job_readying import StoredAudio
from records.jobs import JOBS, JobStatus
from records.types import utcnow


@dataclass(frozen=True)
class JobAudio:
    """A job's status and, once ready, its audio's place and facts."""

    job_id: str
    status: str
    format: str
    key: str | None
    store: str
    size: int | None
    sha256: str | None
    duration_sec: float | None
    pruned_at: datetime | None


# A job's store. Rows written before revision 0006 name none: their audio is under AUDIO_DIR.
AUDIO_STORE: ColumnElement[str] = func.coalesce(JOBS.c.audio_store, literal("local"))
_COLUMNS = (
    JOBS.c.id,
    JOBS.c.status,
    JOBS.c.format,
    JOBS.c.audio_path,
    AUDIO_STORE.label("audio_store"),
    JOBS.c.audio_bytes,
    JOBS.c.audio_sha256,
    JOBS.c.audio_duration_sec,
    JOBS.c.audio_pruned_at,
)


def job_audio(engine: Engine, job_id: str) -> JobAudio | None:
    """The job's audio record, or None when there is no such job."""
    with engine.connect() as conn:
        row = conn.execute(select(*_COLUMNS).where(JOBS.c.id == job_id)).first()
    return None if row is None else JobAudio(*row)


def restore_audio(engine: Engine, job_id: str, audio: StoredAudio) -> bool:
    """A ready job's audio put back after its store lost it (usage is not counted again)."""
    with transaction(engine) as conn:
        changed = conn.execute(
            update(JOBS)
            .where(JOBS.c.id == job_id, JOBS.c.status == JobStatus.READY.value)
            .values(
                audio_path=audio.relative_path,
                audio_store=audio.store,
                audio_bytes=audio.size,
                audio_sha256=audio.sha256,
                audio_duration_sec=audio.duration_sec,
                audio_pruned_at=None,
                updated_at=utcnow(),
            )
        ).rowcount
    return bool(changed)


def audio_in_store(engine: Engine, store: str, after_id: str, limit: int) -> list[JobAudio]:
    """Kept (not pruned) audio recorded in `store`, by job id after `after_id`, at most `limit`."""
    query = (
        select(*_COLUMNS)
        .where(
            AUDIO_STORE.in_([store]),
            JOBS.c.audio_path.is_not(None),
            JOBS.c.audio_pruned_at.is_(None),
            JOBS.c.id > after_id,
        )
        .order_by(JOBS.c.id)
        .limit(limit)
    )
    with engine.connect() as conn:
        return [JobAudio(*row) for row in conn.execute(query)]


def count_audio_in_store(engine: Engine, store: str) -> int:
    """How many jobs' kept audio is recorded in `store`."""
    query = select(func.count()).where(
        AUDIO_STORE.in_([store]),
        JOBS.c.audio_path.is_not(None),
        JOBS.c.audio_pruned_at.is_(None),
    )
    with engine.connect() as conn:
        return int(conn.execute(query).scalar_one())


def repoint_audio(engine: Engine, job_id: str, from_store: str, to_store: str) -> bool:
    """Record that the job's audio now lives in `to_store`; False if it was not in `from_store`."""
    with transaction(engine) as conn:
        changed = conn.execute(
            update(JOBS)
            .where(JOBS.c.id == job_id, AUDIO_STORE.in_([from_store]))
            .values(audio_store=to_store, updated_at=utcnow())
        ).rowcount
    return bool(changed)


def prunable_audio(
    engine: Engine, ready_before: datetime, after_id: str, limit: int
) -> list[JobAudio]:
    """Ready jobs' kept audio, ready before `ready_before`, by id after `after_id`."""
    query = (
        select(*_COLUMNS)
        .where(
            JOBS.c.status == JobStatus.READY.value,
            JOBS.c.audio_path.is_not(None),
            JOBS.c.audio_pruned_at.is_(None),
            JOBS.c.ready_at < ready_before,
            JOBS.c.id > after_id,
        )
        .order_by(JOBS.c.id)
        .limit(limit)
    )
    with engine.connect() as conn:
        return [JobAudio(*row) for row in conn.execute(query)]


def mark_audio_pruned(engine: Engine, job_id: str) -> bool:
    """Record that retention deleted the job's audio (its facts stay, as history)."""
    now = utcnow()
    with transaction(engine) as conn:
        changed = conn.execute(
            update(JOBS)
            .where(JOBS.c.id == job_id, JOBS.c.audio_pruned_at.is_(None))
            .values(audio_pruned_at=now, updated_at=now)
        ).rowcount
    return bool(changed)
