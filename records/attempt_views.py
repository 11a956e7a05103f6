"""A generation's attempt with what the handlers need of its job: the read that the claim,
the completion and the lookup share (no outbox, no logging: `voicehook status` reads
through `records.claims` and loads neither)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Connection, Engine, RowMapping, func, select

from config.database import transaction
from records.jobs import ATTEMPTS, JOBS


@dataclass(frozen=True)
class AttemptView:
    """An attempt with what the handlers need of its job, detached from any connection."""

    job_id: str
    attempt_id: str
    generation_id: str | None
    number: int
    attempt_status: str
    job_status: str
    tracked: bool
    format: str
    customer_id: str | None
    attempts_made: int
    max_attempts: int
    latest_number: int
    estimated_credits: int | None
    download_failures: int = 0


def _view(row: RowMapping) -> AttemptView:
    """`row`: an attempt's columns, plus its job's as `job_*` and `latest_number`."""
    return AttemptView(
        job_id=row["job_id"],
        attempt_id=row["id"],
        generation_id=row["generation_id"],
        number=row["number"],
        attempt_status=row["status"],
        job_status=row["job_status"],
        tracked=bool(row["job_tracked"]),
        format=row["job_format"],
        customer_id=row["job_customer_id"],
        attempts_made=row["job_attempts_made"],
        max_attempts=row["job_max_attempts"],
        latest_number=int(row["latest_number"] or row["number"]),
        estimated_credits=row["estimated_credits"],
        download_failures=int(row["download_failures"] or 0),
    )


def find_attempt(engine: Engine, generation_id: str) -> AttemptView | None:
    """The attempt that recorded this generation, if any."""
    with transaction(engine, write=False) as conn:
        return find_attempt_on(conn, generation_id)


def find_attempt_on(conn: Connection, generation_id: str) -> AttemptView | None:
    """The attempt that recorded this generation, if any, read in `conn`'s transaction."""
    row = (
        conn.execute(
            select(*attempt_columns())
            .join(JOBS, JOBS.c.id == ATTEMPTS.c.job_id)
            .where(ATTEMPTS.c.generation_id == generation_id)
        )
        .mappings()
        .first()
    )
    return None if row is None else _view(row)


def attempt_columns() -> list[ColumnElement[Any]]:
    """What `view_of` reads: an attempt's columns and its job's (a query over ATTEMPTS
    joined to JOBS)."""
    later = ATTEMPTS.alias("later")
    return [
        *ATTEMPTS.c,
        JOBS.c.status.label("job_status"),
        JOBS.c.tracked.label("job_tracked"),
        JOBS.c.format.label("job_format"),
        JOBS.c.customer_id.label("job_customer_id"),
        JOBS.c.attempts_made.label("job_attempts_made"),
        JOBS.c.max_attempts.label("job_max_attempts"),
        select(func.max(later.c.number))
        .where(later.c.job_id == ATTEMPTS.c.job_id)
        .scalar_subquery()
        .label("latest_number"),
    ]


def view_of(row: RowMapping) -> AttemptView | None:
    """The attempt of a row of `attempt_columns`, outer-joined (None: no attempt)."""
    return None if row["id"] is None or row["job_status"] is None else _view(row)
