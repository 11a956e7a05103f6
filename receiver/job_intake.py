"""Accepting the business's jobs: a request becomes a pending job of a known customer."""

from __future__ import annotations

from sqlalchemy import Engine

from receiver.job_requests import JobRequest
from records.errors import UnknownCustomer
from records.job_repo import create_job as store_job
from records.jobs import Job


def create_job(engine: Engine, request: JobRequest, max_attempts: int) -> Job:
    """A pending job for the customer; its submission is the workers' business."""
    job = store_job(
        engine,
        customer_id=request.customer_id,
        customer_ref=request.customer_ref,
        voice_id=request.voice_id,
        script=request.script,
        audio_format=request.format,
        settings=request.settings.as_api(),
        max_attempts=max_attempts,
    )
    if job is None:
        raise UnknownCustomer(request.customer_id or request.customer_ref or "")
    return job
