"""Jobs, voices and customers as the internal API shows them, read on a given connection.

One builder per resource, so `GET /api/...` and the notifications to the business's app
(written inside the transaction of the change, on that transaction's connection) show the
same document.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from records.customer_usage import customer_of, customer_query
from records.jobs import ATTEMPTS, CUSTOMERS, JOBS, VOICES, Attempt, Customer, Job, Voice


def job_document_on(conn: Connection, job_id: str) -> dict[str, Any] | None:
    """A job: status, attempts and audio facts."""
    row = conn.execute(select(JOBS).where(JOBS.c.id == job_id)).mappings().first()
    if row is None:
        return None
    attempts = [
        Attempt(**a)
        for a in conn.execute(
            select(ATTEMPTS).where(ATTEMPTS.c.job_id == job_id).order_by(ATTEMPTS.c.number)
        ).mappings()
    ]
    return {**job_summary(Job(**row)), "attempts": [attempt_document(a) for a in attempts]}


def job_summary(job: Job) -> dict[str, Any]:
    """A job without its attempts, as the lists show it."""
    return {
        "id": job.id,
        "customerId": job.customer_id,
        "externalRef": job.external_ref,
        "metadata": job.app_metadata,
        "tracked": job.tracked,
        "voiceId": job.voice_id,
        "format": job.format,
        "settings": job.settings,
        "status": job.status,
        "attemptsMade": job.attempts_made,
        "maxAttempts": job.max_attempts,
        "nextAttemptAt": iso(job.next_attempt_at),
        "lastError": job.last_error,
        "audio": None
        if job.audio_path is None
        else {
            "bytes": job.audio_bytes,
            "sha256": job.audio_sha256,
            "durationSec": job.audio_duration_sec,
        },
        "createdAt": iso(job.created_at),
        "readyAt": iso(job.ready_at),
    }


def attempt_document(a: Attempt) -> dict[str, Any]:
    """One attempt of a job: its generation and what became of it."""
    return {
        "number": a.number,
        "generationId": a.generation_id,
        "status": a.status,
        "error": a.error,
        "intentAt": iso(a.intent_at),
        "submittedAt": iso(a.submitted_at),
        "completedAt": iso(a.completed_at),
        # Reconciliation's bounded polls, for an operator asking why it waits.
        "polls": a.polls,
        "lastPolledAt": iso(a.last_polled_at),
        "nextPollAt": iso(a.next_poll_at),
        "downloadFailures": a.download_failures,
    }


def voice_document_on(conn: Connection, voice_id: str) -> dict[str, Any] | None:
    """A cloned voice: its status and upstream ids."""
    row = conn.execute(select(VOICES).where(VOICES.c.id == voice_id)).mappings().first()
    return None if row is None else voice_summary(Voice(**row))


def voice_summary(voice: Voice) -> dict[str, Any]:
    """A cloned voice as the API shows it (alone or in a list)."""
    return {
        "id": voice.id,
        "customerId": voice.customer_id,
        "name": voice.name,
        "status": voice.status,
        "voiceId": voice.voice_id,
        "cloneJobId": voice.clone_job_id,
        "lastError": voice.last_error,
        "createdAt": iso(voice.created_at),
    }


def customer_document_on(conn: Connection, customer_id: str) -> dict[str, Any] | None:
    """A customer with its usage."""
    query = customer_query().where(CUSTOMERS.c.id == customer_id)
    row = conn.execute(query).mappings().first()
    return None if row is None else customer_summary(customer_of(row))


def customer_summary(customer: Customer) -> dict[str, Any]:
    """A customer with its usage (alone or in a list)."""
    return {
        "id": customer.id,
        "externalRef": customer.external_ref,
        "name": customer.name,
        "usage": {
            "audioSeconds": customer.audio_seconds,
            "creditsSpent": customer.credits_spent,
            "jobsReady": customer.jobs_ready,
            "jobsFailed": customer.jobs_failed,
        },
        "createdAt": iso(customer.created_at),
        "updatedAt": iso(customer.updated_at),
    }


def iso(value: datetime | None) -> str | None:
    """A UTC time as the API writes it (`…Z`)."""
    return None if value is None else value.isoformat().replace("+00:00", "Z")
