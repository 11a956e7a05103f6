"""The business's side: customers, their audio jobs (with one attempt per upstream
generation), and their cloned voices."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlmodel import Field, SQLModel

from records.types import UTCDateTime


class JobStatus(StrEnum):
    PENDING = "pending"  # accepted, waiting for a worker to submit it within the budget
    SUBMITTING = "submitting"  # a worker holds it and is calling the API
    SUBMITTED = "submitted"  # an attempt is with the upstream
    RETRY_WAIT = "retry_wait"  # the last attempt failed; the next is scheduled
    BLOCKED = "blocked"  # insufficient credits: waits for `voicehook jobs resume`
    # An operator must decide (the reason is in last_error): a submission whose outcome is
    # unknown and matched no generation, or a generation that never settled upstream.
    NEEDS_REVIEW = "needs_review"
    READY = "ready"  # audio on disk, verified
    FAILED = "failed"  # gave up, with the reason in last_error


# A job in one of these never changes again (a late webhook only notes its attempt).
TERMINAL_JOB_STATES = frozenset({JobStatus.READY, JobStatus.FAILED})
# A job in one of these waits for a submission (`records.submission_repo.may_submit`).
SUBMITTABLE_JOB_STATES = frozenset({JobStatus.PENDING, JobStatus.RETRY_WAIT})


class AttemptStatus(StrEnum):
    SUBMITTING = "submitting"  # intent recorded; the POST is being made
    # The worker stopped between the POST and recording its answer: a generation may exist.
    UNKNOWN = "unknown"
    ABANDONED = "abandoned"  # an unknown outcome the operator chose to resubmit past
    SUBMITTED = "submitted"
    READY = "ready"
    FAILED = "failed"
    SUPERSEDED = "superseded"


# An attempt in one of these may have made a generation nobody recorded.
UNKNOWN_OUTCOME_ATTEMPT_STATES = frozenset({AttemptStatus.SUBMITTING, AttemptStatus.UNKNOWN})


class VoiceStatus(StrEnum):
    UPLOADING = "uploading"
    CLONING = "cloning"
    READY = "ready"
    FAILED = "failed"


class Customer(SQLModel, table=True):
    __tablename__ = "customers"
    __table_args__ = (Index("ix_customers_created_at_id", "created_at", "id"),)

    id: str = Field(sa_column=Column(String(36), primary_key=True))
    external_ref: str = Field(sa_column=Column(String(255), nullable=False, unique=True))
    name: str = Field(sa_column=Column(String(255), nullable=False))
    audio_seconds: float = Field(default=0.0, sa_column=Column(Float, nullable=False))
    credits_spent: int = Field(default=0)
    jobs_ready: int = Field(default=0)
    jobs_failed: int = Field(default=0)
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    updated_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class Job(SQLModel, table=True):
    __tablename__ = "jobs"
    __table_args__ = (
        Index("ix_jobs_status_next_attempt_at", "status", "next_attempt_at"),
        # The app's own id is unique per customer (NULLs are distinct on both dialects).
        Index("ux_jobs_customer_external_ref", "customer_id", "external_ref", unique=True),
        # Keyset pagination of `GET /api/jobs`, newest first, unfiltered and by each filter.
        Index("ix_jobs_created_at_id", "created_at", "id"),
        Index("ix_jobs_customer_created_at_id", "customer_id", "created_at", "id"),
        Index("ix_jobs_status_created_at_id", "status", "created_at", "id"),
    )

    id: str = Field(sa_column=Column(String(36), primary_key=True))
    customer_id: str | None = Field(
        default=None,
        sa_column=Column(String(36), ForeignKey("customers.id"), index=True),
    )
    tracked: bool = Field(default=True)  # False: a generation this service did not submit
    voice_id: str | None = Field(default=None, sa_column=Column(String(64)))
    script: str | None = Field(default=None, sa_column=Column(Text))
    format: str = Field(default="mp3", sa_column=Column(String(8), nullable=False))
    settings: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    external_ref: str | None = Field(default=None, sa_column=Column(String(255)))
    # The app's small JSON object, echoed as the job document's `metadata` (a name that
    # SQLModel's classes keep for themselves).
    app_metadata: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    status: str = Field(sa_column=Column(String(20), nullable=False, index=True))
    attempts_made: int = Field(default=0)
    max_attempts: int = Field(default=3)
    next_attempt_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    last_error: str | None = Field(default=None, sa_column=Column(Text))
    audio_path: str | None = Field(default=None, sa_column=Column(Text))  # the store's key
    # Which store holds it: `local` (AUDIO_DIR) or `s3://bucket/prefix`.
    audio_store: str | None = Field(default=None, sa_column=Column(String(255)))
    audio_pruned_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    audio_bytes: int | None = Field(default=None)
    audio_sha256: str | None = Field(default=None, sa_column=Column(String(64)))
    audio_duration_sec: float | None = Field(default=None, sa_column=Column(Float))
    credits: int = Field(default=0)
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    updated_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    ready_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))


class Attempt(SQLModel, table=True):
    """One upstream generation made for a job; a retry is a new attempt."""

    __tablename__ = "attempts"
    __table_args__ = (UniqueConstraint("job_id", "number"),)

    id: str = Field(sa_column=Column(String(36), primary_key=True))
    job_id: str = Field(
        sa_column=Column(
            String(36), ForeignKey("jobs.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    number: int = Field(default=1)
    generation_id: str | None = Field(default=None, sa_column=Column(String(64), unique=True))
    status: str = Field(sa_column=Column(String(20), nullable=False, index=True))
    error: str | None = Field(default=None, sa_column=Column(Text))
    estimated_credits: int | None = Field(default=None)
    submitted_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    completed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    last_polled_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    # When the submission was about to POST: the window its generation was made in.
    intent_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    polls: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default="0"))
    next_poll_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    download_failures: int = Field(
        default=0, sa_column=Column(Integer, nullable=False, server_default="0")
    )


class Voice(SQLModel, table=True):
    """A customer's cloned voice, from the clone job to the upstream voice id."""

    __tablename__ = "voices"
    __table_args__ = (Index("ix_voices_created_at_id", "created_at", "id"),)

    id: str = Field(sa_column=Column(String(36), primary_key=True))
    customer_id: str | None = Field(
        default=None, sa_column=Column(String(36), ForeignKey("customers.id"), index=True)
    )
    name: str | None = Field(default=None, sa_column=Column(String(255)))
    clone_job_id: str | None = Field(default=None, sa_column=Column(String(64), unique=True))
    voice_id: str | None = Field(default=None, sa_column=Column(String(64), index=True))
    status: str = Field(sa_column=Column(String(20), nullable=False))
    sample_paths: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    last_error: str | None = Field(default=None, sa_column=Column(Text))
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    updated_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


# The Core tables, which the repositories in `records/` speak to.
CUSTOMERS: Table = SQLModel.metadata.tables["customers"]
JOBS: Table = SQLModel.metadata.tables["jobs"]
ATTEMPTS: Table = SQLModel.metadata.tables["attempts"]
VOICES: Table = SQLModel.metadata.tables["voices"]
