"""Jobs accepted, read back (one, or a page of a list), resumed after a top-up, retried
after failing, and recovered when their message was lost. What a job's generation does to
it is in `job_outcomes`; its submission in `submission_repo`."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import uuid4

from sqlalchemy import Connection, Engine, and_, exists, insert, or_, select, update

from config.database import transaction
from records.customer_repo import find_customer
from records.documents import job_document_on, job_summary
from records.errors import DuplicateExternalRef, UnknownCustomer
from records.jobs import (
    ATTEMPTS,
    CUSTOMERS,
    JOBS,
    SUBMITTABLE_JOB_STATES,
    UNKNOWN_OUTCOME_ATTEMPT_STATES,
    Job,
    JobStatus,
)
from records.keyset import Page, Position, cut, page_query
from records.types import utcnow


@dataclass(frozen=True)
class NewJob:
    """What a job is accepted with: the customer (by id, else by reference) and the work."""

    customer_id: str | None
    customer_ref: str | None
    voice_id: str
    script: str
    audio_format: str
    settings: dict[str, Any]
    max_attempts: int
    external_ref: str | None = None
    metadata: dict[str, Any] | None = None


def create_job(engine: Engine, new: NewJob) -> Job:
    """A pending job for the customer, in a transaction of its own (see `insert_job`)."""
    with transaction(engine) as conn:
        return insert_job(conn, new)


def insert_job(conn: Connection, new: NewJob) -> Job:
    """A pending job for the customer. UnknownCustomer if there is no such customer;
    DuplicateExternalRef if the customer has a job with this externalRef (a concurrent
    insert of one is an IntegrityError from the unique index instead)."""
    customer = find_customer(conn, customer_id=new.customer_id, external_ref=new.customer_ref)
    if customer is None:
        raise UnknownCustomer(new.customer_id or new.customer_ref or "")
    if new.external_ref is not None:
        existing = conn.execute(
            select(JOBS.c.id).where(
                JOBS.c.customer_id == customer.id, JOBS.c.external_ref == new.external_ref
            )
        ).scalar()
        if existing is not None:
            raise DuplicateExternalRef(new.external_ref, str(existing))
    now = utcnow()
    job = Job(
        id=str(uuid4()),
        customer_id=customer.id,
        voice_id=new.voice_id,
        script=new.script,
        format=new.audio_format,
        settings=new.settings,
        external_ref=new.external_ref,
        app_metadata=new.metadata,
        status=JobStatus.PENDING.value,
        max_attempts=new.max_attempts,
        created_at=now,
        updated_at=now,
    )
    conn.execute(insert(JOBS).values(asdict(job)))
    return job


def find_job(engine: Engine, job_id: str) -> Job | None:
    with engine.connect() as conn:
        row = conn.execute(select(JOBS).where(JOBS.c.id == job_id)).mappings().first()
    return None if row is None else Job(**row)


def list_jobs(engine: Engine, status: str | None, limit: int) -> list[Job]:
    """Jobs (in `status`, when given), newest first."""
    query = select(JOBS).order_by(JOBS.c.created_at.desc()).limit(limit)
    if status:
        query = query.where(JOBS.c.status == status)
    with engine.connect() as conn:
        return [Job(**row) for row in conn.execute(query).mappings()]


@dataclass(frozen=True)
class JobFilter:
    """Which jobs a list shows; None: any."""

    customer: str | None = None  # a customer's id or external reference
    status: str | None = None
    since: datetime | None = None  # created at or after


def page_jobs(engine: Engine, where: JobFilter, after: Position | None, limit: int) -> Page:
    """A page of jobs, newest first, as the lists show them."""
    query = select(JOBS)
    if where.customer is not None:
        query = query.where(
            JOBS.c.customer_id.in_(
                select(CUSTOMERS.c.id).where(
                    or_(
                        CUSTOMERS.c.id == where.customer, CUSTOMERS.c.external_ref == where.customer
                    )
                )
            )
        )
    if where.status is not None:
        query = query.where(JOBS.c.status == where.status)
    if where.since is not None:
        query = query.where(JOBS.c.created_at >= where.since)
    with engine.connect() as conn:
        rows = conn.execute(page_query(JOBS, query, after, limit)).mappings().all()
    jobs = [Job(**row) for row in rows]
    return cut(jobs, [job_summary(job) for job in jobs], limit)


def job_document(engine: Engine, job_id: str) -> dict[str, Any] | None:
    """A job as the internal API shows it: status, attempts and audio facts."""
    with engine.connect() as conn:
        return job_document_on(conn, job_id)


def recover_jobs(
    engine: Engine,
    enqueue_submissions: Callable[[Sequence[str]], None],
    *,
    forgotten_after_seconds: float,
    submitting_lease_seconds: float,
    limit: int = 500,
) -> int:
    """Re-enqueue due jobs nobody has touched for a while; free jobs a dead worker held
    before it recorded any intent to submit (one that did is `records.unknown_outcomes`'s).

    A duplicate submission message is harmless: a submission claims its job with a
    conditional update before calling the API.
    """
    now = utcnow()
    forgotten = now - timedelta(seconds=forgotten_after_seconds)
    abandoned = now - timedelta(seconds=submitting_lease_seconds)
    with transaction(engine) as conn:
        held = list(
            conn.execute(
                select(JOBS.c.id).where(
                    JOBS.c.status == JobStatus.SUBMITTING.value,
                    JOBS.c.updated_at <= abandoned,
                    ~exists().where(
                        ATTEMPTS.c.job_id == JOBS.c.id,
                        ATTEMPTS.c.status.in_(
                            sorted(state.value for state in UNKNOWN_OUTCOME_ATTEMPT_STATES)
                        ),
                    ),
                )
            ).scalars()
        )
        if held:
            conn.execute(
                update(JOBS)
                .where(JOBS.c.id.in_(held), JOBS.c.status == JobStatus.SUBMITTING.value)
                .values(status=JobStatus.RETRY_WAIT.value, next_attempt_at=now, updated_at=now)
            )
        due = or_(JOBS.c.next_attempt_at.is_(None), JOBS.c.next_attempt_at <= forgotten)
        job_ids = list(
            conn.execute(
                select(JOBS.c.id)
                .where(
                    JOBS.c.status.in_(sorted(state.value for state in SUBMITTABLE_JOB_STATES)),
                    and_(due, JOBS.c.updated_at <= forgotten),
                )
                .order_by(JOBS.c.created_at)
                .limit(limit)
            ).scalars()
        )
        if job_ids:
            # Touch them so the next sweep waits again before re-enqueueing.
            conn.execute(update(JOBS).where(JOBS.c.id.in_(job_ids)).values(updated_at=now))
    enqueue_submissions(held + job_ids)
    return len(held) + len(job_ids)
