"""What a generation's webhook does to its job and attempt; each function is one short
transaction.

No transaction is held open across a network call: a download or an API request happens
between two of these, so SQLite's single writer is never kept waiting on the network. The
conditional updates are how races between workers are settled.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import uuid4

from sqlalchemy import (
    Connection,
    Engine,
    case,
    insert,
    or_,
    select,
    update,
)

from config.database import is_sqlite, transaction
from records.attempt_views import AttemptView, find_attempt_on
from records.claims import settle_on
from records.customer_usage import count_failed, count_ready
from records.events import EventStatus
from records.job_readying import StoredAudio, audio_columns, complete_in_one_statement, readying
from records.jobs import (
    ATTEMPTS,
    JOBS,
    TERMINAL_JOB_STATES,
    Attempt,
    AttemptStatus,
    Job,
    JobStatus,
)
from records.outbox import notify, notify_job, subscribers_on
from records.outbox_tables import EventType
from records.types import utcnow


def attempt_for_generation(
    engine: Engine, generation_id: str, *, untracked_format: str, max_attempts: int
) -> AttemptView:
    """The attempt that made this generation; an untracked job is made for a stranger's.

    Call it once no submission of ours can still claim the generation
    (`processors.attempt_lookup` decides that).
    """
    with transaction(engine, write=False) as conn:
        found = find_attempt_on(conn, generation_id)
        if found is not None:
            return found
    with transaction(engine) as conn:
        found = find_attempt_on(conn, generation_id)  # another worker may have made it
        if found is not None:
            return found
        now = utcnow()
        job = Job(
            id=str(uuid4()),
            tracked=False,
            format=untracked_format,
            status=JobStatus.SUBMITTED.value,
            attempts_made=1,
            max_attempts=max_attempts,
            created_at=now,
            updated_at=now,
        )
        attempt = Attempt(
            id=str(uuid4()),
            job_id=job.id,
            number=1,
            generation_id=generation_id,
            status=AttemptStatus.SUBMITTED.value,
            submitted_at=now,
        )
        conn.execute(insert(JOBS).values(asdict(job)))
        conn.execute(insert(ATTEMPTS).values(asdict(attempt)))
        found = find_attempt_on(conn, generation_id)
        assert found is not None
        return found


def complete_job(
    engine: Engine, view: AttemptView, audio: StoredAudio, *, settles: str | None = None
) -> bool:
    """Job ready, attempt ready, customer usage counted — once. False if it was already ready.

    `settles`: an event settled `processed` in the same commit, whichever it was (the
    worker's: one commit makes the job ready and the event processed).
    On PostgreSQL, when no notification endpoint is registered, all of it is one
    autocommitted statement (`records.job_readying`); otherwise one transaction. The
    usage is counted in the job's shard of the customer's (`records.customer_usage`), so
    the completions of one customer's jobs seldom wait for each other's commit.
    """
    now = utcnow()
    credits = view.estimated_credits or 0
    if not is_sqlite(engine):
        done = complete_in_one_statement(engine, view, audio, settles, now)
        if done is not None:
            return done
    with transaction(engine) as conn:
        changed = conn.execute(readying(view.job_id, audio_columns(audio), credits, now)).rowcount
        if changed:
            _ready_and_supersede(conn, view, now)
        else:
            _set_attempt(conn, view.attempt_id, AttemptStatus.READY, None)
        if settles is not None:
            settle_on(conn, settles, EventStatus.PROCESSED, None)
        if not changed:
            return False
        subscribers = subscribers_on(conn)
        notify(conn, EventType.JOB_READY, view.job_id, subscribers)
        count_ready(
            conn,
            view.customer_id,
            view.job_id,
            seconds=audio.duration_sec,
            credits=credits,
            now=now,
        )
        if view.customer_id is not None:  # its document as of this count; no statement
            # at all when no endpoint takes usage updates
            notify(conn, EventType.CUSTOMER_USAGE_UPDATED, view.customer_id, subscribers)
        return True


def _ready_and_supersede(conn: Connection, view: AttemptView, now: datetime) -> None:
    """In one statement: the view's attempt ready, its job's others still in flight superseded."""
    this = ATTEMPTS.c.id == view.attempt_id
    conn.execute(
        update(ATTEMPTS)
        .where(
            ATTEMPTS.c.job_id == view.job_id,
            this | ATTEMPTS.c.status.in_([AttemptStatus.SUBMITTED, AttemptStatus.SUBMITTING]),
        )
        .values(
            status=case((this, AttemptStatus.READY.value), else_=AttemptStatus.SUPERSEDED.value),
            completed_at=case((this, now), else_=ATTEMPTS.c.completed_at),
        )
    )


def note_download_failure(engine: Engine, view: AttemptView, reason: str) -> int:
    """A download of the attempt's audio failed; how many have, now. The job says so."""
    now = utcnow()
    with transaction(engine) as conn:
        conn.execute(
            update(ATTEMPTS)
            .where(ATTEMPTS.c.id == view.attempt_id)
            .values(download_failures=ATTEMPTS.c.download_failures + 1)
        )
        conn.execute(
            update(JOBS)
            .where(
                JOBS.c.id == view.job_id,
                JOBS.c.status.not_in(sorted(state.value for state in TERMINAL_JOB_STATES)),
            )
            .values(last_error=reason, updated_at=now)
        )
        count = conn.execute(
            select(ATTEMPTS.c.download_failures).where(ATTEMPTS.c.id == view.attempt_id)
        ).scalar()
    return int(count or 0)


def record_attempt(
    engine: Engine, attempt_id: str, status: AttemptStatus, error: str | None
) -> None:
    """Note what became of an attempt without touching its job."""
    with transaction(engine) as conn:
        _set_attempt(conn, attempt_id, status, error)


def schedule_retry(engine: Engine, view: AttemptView, error: str | None, delay: float) -> bool:
    """Attempt failed, job waits for its next attempt; False if another worker got there first."""
    now = utcnow()
    with transaction(engine) as conn:
        if not _set_attempt_if(conn, view, AttemptStatus.FAILED, error):
            return False
        conn.execute(
            update(JOBS)
            .where(JOBS.c.id == view.job_id, JOBS.c.status == view.job_status)
            .values(
                status=JobStatus.RETRY_WAIT.value,
                next_attempt_at=now + timedelta(seconds=delay),
                last_error=error,
                updated_at=now,
            )
        )
        return True


def fail_job(engine: Engine, view: AttemptView, reason: str) -> bool:
    """Attempt and job failed for good; the customer's failed-job count goes up once."""
    now = utcnow()
    with transaction(engine) as conn:
        _set_attempt_if(conn, view, AttemptStatus.FAILED, reason)
        changed = conn.execute(
            update(JOBS)
            .where(
                JOBS.c.id == view.job_id,
                JOBS.c.status.not_in(sorted(state.value for state in TERMINAL_JOB_STATES)),
            )
            .values(status=JobStatus.FAILED.value, last_error=reason, updated_at=now)
        ).rowcount
        if changed:
            count_failed(conn, view.customer_id, view.job_id, now)
            notify_job(conn, EventType.JOB_FAILED, view.job_id, usage_of=view.customer_id)
        return bool(changed)


def _set_attempt(
    conn: Connection, attempt_id: str, status: AttemptStatus, error: str | None
) -> None:
    """The attempt's status, and its error when one is given, as of now."""
    values: dict[str, Any] = {"status": status.value, "completed_at": utcnow()}
    if error is not None:
        values["error"] = error
    conn.execute(update(ATTEMPTS).where(ATTEMPTS.c.id == attempt_id).values(**values))


def _set_attempt_if(
    conn: Connection, view: AttemptView, status: AttemptStatus, error: str | None
) -> bool:
    """As `_set_attempt`, only if the attempt is still as the view saw it."""
    statement = (
        update(ATTEMPTS)
        .where(ATTEMPTS.c.id == view.attempt_id, ATTEMPTS.c.status == view.attempt_status)
        .values(status=status.value, error=error, completed_at=utcnow())
    )
    return conn.execute(statement).rowcount > 0


@dataclass(frozen=True)
class Overdue:
    attempt_id: str
    generation_id: str
    polls: int  # made before this one


def overdue_attempts(engine: Engine, overdue_after_seconds: float, limit: int) -> list[Overdue]:
    """Submitted attempts with no terminal webhook after `overdue_after_seconds` whose next
    poll is due; the oldest first."""
    now = utcnow()
    overdue = now - timedelta(seconds=overdue_after_seconds)
    with transaction(engine, write=False) as conn:
        rows = conn.execute(
            select(ATTEMPTS.c.id, ATTEMPTS.c.generation_id, ATTEMPTS.c.polls)
            .where(
                ATTEMPTS.c.status == AttemptStatus.SUBMITTED.value,
                ATTEMPTS.c.submitted_at <= overdue,
                or_(ATTEMPTS.c.next_poll_at.is_(None), ATTEMPTS.c.next_poll_at <= now),
            )
            .order_by(ATTEMPTS.c.submitted_at)
            .limit(limit)
        )
        return [Overdue(row.id, row.generation_id, int(row.polls or 0)) for row in rows]


def mark_polled(engine: Engine, attempt_id: str, next_poll_in_seconds: float) -> None:
    """The upstream was asked about this attempt's generation just now."""
    now = utcnow()
    with transaction(engine) as conn:
        conn.execute(
            update(ATTEMPTS)
            .where(ATTEMPTS.c.id == attempt_id)
            .values(
                last_polled_at=now,
                polls=ATTEMPTS.c.polls + 1,
                next_poll_at=now + timedelta(seconds=next_poll_in_seconds),
            )
        )


def surface_unsettled(engine: Engine, attempt_id: str, reason: str) -> str | None:
    """Polling gave up on this attempt's generation: its job goes to review (its id), and
    the attempt is not polled again."""
    now = utcnow()
    with transaction(engine) as conn:
        job_id = conn.execute(select(ATTEMPTS.c.job_id).where(ATTEMPTS.c.id == attempt_id)).scalar()
        conn.execute(
            update(ATTEMPTS)
            .where(ATTEMPTS.c.id == attempt_id)
            .values(next_poll_at=None, status=AttemptStatus.UNKNOWN.value, error=reason)
        )
        changed = conn.execute(
            update(JOBS)
            .where(
                JOBS.c.id == job_id,
                JOBS.c.status.not_in(sorted(state.value for state in TERMINAL_JOB_STATES)),
            )
            .values(status=JobStatus.NEEDS_REVIEW.value, last_error=reason, updated_at=now)
        ).rowcount
    return str(job_id) if changed else None
