"""Operator transitions of jobs: resume the blocked, retry the failed (`voicehook jobs
resume|retry`, `POST /api/jobs/{id}/resume|retry`, the dashboard's buttons).

Apart from `job_repo` because a retry writes a notification into the outbox (the customer's
usage changed), and the outbox's stack has no place in what `voicehook jobs list` loads.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, select, update

from config.database import transaction
from records.customer_usage import uncount_failed_job
from records.jobs import JOBS, JobStatus
from records.outbox import notify
from records.outbox_tables import EventType
from records.types import utcnow


@dataclass(frozen=True)
class Transition:
    """What one job action did: the ids it moved, and the status of each named id it left."""

    moved: list[str]
    left: dict[str, str | None]  # job id -> its status (None: no such job)


def resume_blocked(engine: Engine, job_ids: Sequence[str] = ()) -> Transition:
    """Blocked jobs (all, or those named) go back to `pending`, to be enqueued."""
    values = {"last_error": None, "next_attempt_at": None}
    return _transition(engine, job_ids, JobStatus.BLOCKED, values)


def retry_failed(engine: Engine, job_ids: Sequence[str] = ()) -> Transition:
    """Failed jobs (all, or those named) go back to `pending` with room for one new attempt.

    The move is a conditional update (`status = 'failed'`), so of two concurrent retries of
    one job only one moves it: one new attempt, never two. The job no longer counts among
    its customer's failed jobs (it is counted again if this attempt fails too).
    """
    values = {
        "last_error": None,
        "next_attempt_at": None,
        "max_attempts": JOBS.c.attempts_made + 1,
    }
    return _transition(engine, job_ids, JobStatus.FAILED, values, uncount_failed=True)


def _transition(
    engine: Engine,
    job_ids: Sequence[str],
    source: JobStatus,
    values: dict[str, Any],
    *,
    uncount_failed: bool = False,
) -> Transition:
    now = utcnow()
    named = list(dict.fromkeys(job_ids))
    condition = JOBS.c.status == source.value
    if named:
        condition = condition & JOBS.c.id.in_(named)
    with transaction(engine) as conn:
        rows = conn.execute(select(JOBS.c.id, JOBS.c.customer_id).where(condition)).all()
        moved: list[str] = []
        for job_id, customer_id in rows:
            changed = conn.execute(
                update(JOBS)
                .where(JOBS.c.id == job_id, JOBS.c.status == source.value)
                .values(status=JobStatus.PENDING.value, updated_at=now, **values)
            ).rowcount
            if not changed:
                continue
            moved.append(job_id)
            if uncount_failed:
                uncount_failed_job(conn, customer_id, job_id, now)
                if customer_id is not None:
                    notify(conn, EventType.CUSTOMER_USAGE_UPDATED, customer_id)
        rest = [job_id for job_id in named if job_id not in moved]
        found: dict[str, str] = {}
        if rest:
            statuses = conn.execute(select(JOBS.c.id, JOBS.c.status).where(JOBS.c.id.in_(rest)))
            found = {str(job_id): str(status) for job_id, status in statuses}
    return Transition(moved=moved, left={job_id: found.get(job_id) for job_id in rest})
