"""What the bench reads back from the service's database: job progress and timestamps."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Collection, Iterable
from datetime import datetime

from sqlalchemy import Engine, and_, func, or_, select

from bench.e2e_latency import READY_EVENT, Completion
from bench.errors import BenchError
from records.events import EVENTS
from records.jobs import ATTEMPTS, JOBS, AttemptStatus, JobStatus

POLL_SECONDS = 0.2
CHUNK = 500  # ids per IN (...) list


def status_counts(engine: Engine, job_ids: Collection[str]) -> Counter[str]:
    counts: Counter[str] = Counter()
    with engine.connect() as conn:
        for chunk in _chunks(list(job_ids)):
            rows = conn.execute(
                select(JOBS.c.status, func.count())
                .where(JOBS.c.id.in_(chunk))
                .group_by(JOBS.c.status)
            )
            for status, count in rows:
                counts[str(status)] += int(count)
    return counts


def wait_until_settled(
    engine: Engine, job_ids: Collection[str], timeout_seconds: float
) -> Counter[str]:
    """Wait until every job is ready or failed; their statuses (BenchError on time-out)."""
    counts = wait_for_settled(engine, job_ids, timeout_seconds, stall_seconds=timeout_seconds)
    if settled_count(counts) < len(job_ids):
        raise BenchError(
            f"jobs not settled after {timeout_seconds:.0f}s: {dict(sorted(counts.items()))}"
        )
    return counts


def wait_for_settled(
    engine: Engine, job_ids: Collection[str], timeout_seconds: float, *, stall_seconds: float
) -> Counter[str]:
    """The jobs' statuses once all are ready or failed, or once none has settled for
    `stall_seconds` (a stuck job), or at the time-out, whichever comes first."""
    start = time.monotonic()
    deadline = start + timeout_seconds
    last_progress = start
    settled = -1
    while True:
        counts = status_counts(engine, job_ids)
        now = time.monotonic()
        if settled_count(counts) > settled:
            settled = settled_count(counts)
            last_progress = now
        if settled == len(job_ids) or now > deadline or now - last_progress > stall_seconds:
            return counts
        time.sleep(POLL_SECONDS)


def settled_count(counts: Counter[str]) -> int:
    return counts[JobStatus.READY.value] + counts[JobStatus.FAILED.value]


def completions(engine: Engine, job_ids: Collection[str]) -> list[Completion]:
    """Per job's attempt that has a generation: when its ready event was taken, when the
    job became ready."""
    found: list[Completion] = []
    events = EVENTS.alias("ready_events")
    with engine.connect() as conn:
        for chunk in _chunks(list(job_ids)):
            rows = conn.execute(
                select(ATTEMPTS.c.generation_id, events.c.started_at, JOBS.c.ready_at)
                .join(JOBS, JOBS.c.id == ATTEMPTS.c.job_id)
                .outerjoin(
                    events,
                    and_(
                        events.c.type == READY_EVENT,
                        events.c.resource_id == ATTEMPTS.c.generation_id,
                    ),
                )
                .where(ATTEMPTS.c.job_id.in_(chunk), ATTEMPTS.c.generation_id.is_not(None))
            )
            found.extend(
                Completion(
                    generation_id=str(generation_id),
                    event_started_at=started_at,
                    ready_at=ready_at,
                )
                for generation_id, started_at, ready_at in rows
            )
    return found


def audio_files(engine: Engine, job_ids: Collection[str]) -> list[tuple[str, int]]:
    """(relative path, bytes) of each ready job's audio."""
    found: list[tuple[str, int]] = []
    with engine.connect() as conn:
        for chunk in _chunks(list(job_ids)):
            rows = conn.execute(
                select(JOBS.c.audio_path, JOBS.c.audio_bytes).where(
                    JOBS.c.id.in_(chunk), JOBS.c.status == JobStatus.READY.value
                )
            )
            found.extend((str(path), int(size or 0)) for path, size in rows)
    return found


def backlog(engine: Engine, now: datetime) -> int:
    """Jobs waiting for a submission slot: new ones, and retries whose backoff has passed.
    (Not those a worker holds: one stuck there would count as a backlog nobody serves.)"""
    waiting = or_(
        JOBS.c.status == JobStatus.PENDING.value,
        and_(JOBS.c.status == JobStatus.RETRY_WAIT.value, JOBS.c.next_attempt_at <= now),
    )
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(JOBS).where(waiting)).scalar_one())


def retried_failures(engine: Engine) -> int:
    """Failed attempts that were followed by another attempt of the same job."""
    later = ATTEMPTS.alias("later")
    followed = (
        select(later.c.id)
        .where(later.c.job_id == ATTEMPTS.c.job_id, later.c.number > ATTEMPTS.c.number)
        .exists()
    )
    with engine.connect() as conn:
        return int(
            conn.execute(
                select(func.count())
                .select_from(ATTEMPTS)
                .where(ATTEMPTS.c.status == AttemptStatus.FAILED.value, followed)
            ).scalar_one()
        )


def _chunks(ids: list[str]) -> Iterable[list[str]]:
    for start in range(0, len(ids), CHUNK):
        yield ids[start : start + CHUNK]


def job_of_generation(engine: Engine, generation_id: str) -> tuple[str, str | None, int | None]:
    """(status, audio path, audio bytes) of the job whose attempt made the generation."""
    with engine.connect() as conn:
        row = conn.execute(
            select(JOBS.c.status, JOBS.c.audio_path, JOBS.c.audio_bytes)
            .join(ATTEMPTS, ATTEMPTS.c.job_id == JOBS.c.id)
            .where(ATTEMPTS.c.generation_id == generation_id)
        ).first()
    if row is None:
        return ("unknown", None, None)
    return (str(row.status), row.audio_path, row.audio_bytes)
