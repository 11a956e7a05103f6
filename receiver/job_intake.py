"""Storing the business's customers and jobs, and reading them back for the internal API."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from config.database import session_scope
from receiver.job_requests import CustomerRequest, JobRequest
from records.errors import UnknownCustomer
from records.jobs import Attempt, Customer, Job, JobStatus
from records.types import utcnow


def upsert_customer(engine: Engine, request: CustomerRequest) -> tuple[Customer, bool]:
    """The customer with this external reference, created if new; and whether it was created."""
    with session_scope(engine) as session:
        existing = session.exec(
            select(Customer).where(Customer.external_ref == request.external_ref)
        ).first()
        if existing is not None:
            return existing, False
    now = utcnow()
    customer = Customer(
        id=str(uuid4()),
        external_ref=request.external_ref,
        name=request.name,
        created_at=now,
        updated_at=now,
    )
    try:
        with session_scope(engine) as session:
            session.add(customer)
    except IntegrityError:  # created by a concurrent request a moment ago
        return upsert_customer(engine, request)[0], False
    return customer, True


def create_job(engine: Engine, request: JobRequest, max_attempts: int) -> Job:
    """A pending job for the customer; its submission is the workers' business."""
    now = utcnow()
    with session_scope(engine) as session:
        if request.customer_id is not None:
            customer = session.get(Customer, request.customer_id)
        else:
            customer = session.exec(
                select(Customer).where(Customer.external_ref == request.customer_ref)
            ).first()
        if customer is None:
            raise UnknownCustomer(request.customer_id or request.customer_ref or "")
        job = Job(
            id=str(uuid4()),
            customer_id=customer.id,
            voice_id=request.voice_id,
            script=request.script,
            format=request.format,
            settings=request.settings.as_api(),
            status=JobStatus.PENDING.value,
            max_attempts=max_attempts,
            created_at=now,
            updated_at=now,
        )
        session.add(job)
    return job


def job_document(engine: Engine, job_id: str) -> dict[str, Any] | None:
    """A job as the internal API shows it: status, attempts and audio facts."""
    with session_scope(engine, write=False) as session:
        job = session.get(Job, job_id)
        if job is None:
            return None
        attempts = session.exec(
            select(Attempt).where(Attempt.job_id == job_id).order_by(col(Attempt.number))
        ).all()
        return {
            "id": job.id,
            "customerId": job.customer_id,
            "tracked": job.tracked,
            "voiceId": job.voice_id,
            "format": job.format,
            "settings": job.settings,
            "status": job.status,
            "attemptsMade": job.attempts_made,
            "maxAttempts": job.max_attempts,
            "nextAttemptAt": _iso(job.next_attempt_at),
            "lastError": job.last_error,
            "audio": None
            if job.audio_path is None
            else {
                "bytes": job.audio_bytes,
                "sha256": job.audio_sha256,
                "durationSec": job.audio_duration_sec,
            },
            "createdAt": _iso(job.created_at),
            "readyAt": _iso(job.ready_at),
            "attempts": [
                {
                    "number": a.number,
                    "generationId": a.generation_id,
                    "status": a.status,
                    "error": a.error,
                    "submittedAt": _iso(a.submitted_at),
                    "completedAt": _iso(a.completed_at),
                }
                for a in attempts
            ],
        }


def job_audio_path(engine: Engine, job_id: str) -> tuple[str | None, str | None]:
    """(relative audio path, format) of a ready job; (None, status) otherwise."""
    with session_scope(engine, write=False) as session:
        job = session.get(Job, job_id)
        if job is None:
            return None, None
        if job.status != JobStatus.READY or job.audio_path is None:
            return None, job.status
        return job.audio_path, job.format


def _iso(value: Any) -> str | None:
    return None if value is None else value.isoformat().replace("+00:00", "Z")
