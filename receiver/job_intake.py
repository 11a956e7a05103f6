"""Accepting the business's jobs: a request becomes a pending job of a known customer."""

from __future__ import annotations

from sqlalchemy import Engine

from receiver.job_requests import JobRequest
from records import job_repo
from records.jobs import Job


def new_job(request: JobRequest, max_attempts: int) -> job_repo.NewJob:
    """The job a validated request asks for."""
    return job_repo.NewJob(
        customer_id=request.customer_id,
        customer_ref=request.customer_ref,
        voice_id=request.voice_id,
        script=request.script,
        audio_format=request.format,
        settings=request.settings.as_api(),
        max_attempts=max_attempts,
        external_ref=request.external_ref,
        metadata=request.metadata,
    )


def create_job(engine: Engine, request: JobRequest, max_attempts: int) -> Job:
    """A pending job for the customer (UnknownCustomer if none); its submission is the
    workers' business."""
    return job_repo.create_job(engine, new_job(request, max_attempts))
