"""Resuming blocked jobs (insufficient credits) once the workspace has been topped up."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Engine, select, update

from config.database import session_scope
from records.jobs import Job, JobStatus
from records.types import utcnow

JOBS = Job.metadata.tables["jobs"]


def resume_blocked(engine: Engine, job_ids: Sequence[str] = ()) -> list[str]:
    """Blocked jobs (all, or those named) go back to `pending`; their ids, to enqueue."""
    now = utcnow()
    condition = JOBS.c.status == JobStatus.BLOCKED.value
    if job_ids:
        condition = condition & JOBS.c.id.in_(list(job_ids))
    with session_scope(engine) as session:
        resumed = list(session.execute(select(JOBS.c.id).where(condition)).scalars())
        if resumed:
            session.execute(
                update(JOBS)
                .where(JOBS.c.id.in_(resumed), JOBS.c.status == JobStatus.BLOCKED.value)
                .values(
                    status=JobStatus.PENDING.value,
                    last_error=None,
                    next_attempt_at=None,
                    updated_at=now,
                )
            )
    return resumed
