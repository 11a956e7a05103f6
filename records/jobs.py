"""The business's side: customers, their audio jobs (with one attempt per upstream
generation), and their cloned voices."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
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

from records.metadata import metadata
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


# The Core tables, which the repositories in `records/` speak to. A column's `default` is
# what an insert that leaves it out writes.
CUSTOMERS = Table(
    "customers",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("external_ref", String(255), nullable=False, unique=True),
    Column("name", String(255), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    Index("ix_customers_created_at_id", "created_at", "id"),
)

# A customer's usage, counted in a few rows per customer (`records.customer_usage`): the sum
# of its rows is the customer's usage.
CUSTOMER_USAGE = Table(
    "customer_usage",
    metadata,
    Column("customer_id", String(36), ForeignKey("customers.id"), primary_key=True),
    Column("shard", Integer, primary_key=True),
    Column("audio_seconds", Float, nullable=False),
    Column("credits_spent", Integer, nullable=False),
    Column("jobs_ready", Integer, nullable=False),
    Column("jobs_failed", Integer, nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
)

JOBS = Table(
    "jobs",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("customer_id", String(36), ForeignKey("customers.id"), index=True),
    Column("tracked", Boolean, nullable=False, default=True),
    Column("voice_id", String(64)),
    Column("script", Text),
    Column("format", String(8), nullable=False),
    Column("settings", JSON, nullable=False),
    Column("external_ref", String(255)),
    Column("app_metadata", JSON),
    Column("status", String(20), nullable=False, index=True),
    Column("attempts_made", Integer, nullable=False, default=0),
    Column("max_attempts", Integer, nullable=False, default=3),
    Column("next_attempt_at", UTCDateTime()),
    Column("last_error", Text),
    Column("audio_path", Text),
    Column("audio_store", String(255)),
    Column("audio_pruned_at", UTCDateTime()),
    Column("audio_bytes", Integer),
    Column("audio_sha256", String(64)),
    Column("audio_duration_sec", Float),
    Column("credits", Integer, nullable=False, default=0),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    Column("ready_at", UTCDateTime()),
    Index("ix_jobs_status_next_attempt_at", "status", "next_attempt_at"),
    # The app's own id is unique per customer (NULLs are distinct on both dialects).
    Index("ux_jobs_customer_external_ref", "customer_id", "external_ref", unique=True),
    # Keyset pagination of `GET /api/jobs`, newest first, unfiltered and by each filter.
    Index("ix_jobs_created_at_id", "created_at", "id"),
    Index("ix_jobs_customer_created_at_id", "customer_id", "created_at", "id"),
    Index("ix_jobs_status_created_at_id", "status", "created_at", "id"),
)

ATTEMPTS = Table(
    "attempts",
    metadata,
    Column("id", String(36), primary_key=True),
    Column(
        "job_id", String(36), ForeignKey("jobs.id", ondelete="CASCADE"), nullable=False, index=True
    ),
    Column("number", Integer, nullable=False, default=1),
    Column("generation_id", String(64), unique=True),
    Column("status", String(20), nullable=False, index=True),
    Column("error", Text),
    Column("estimated_credits", Integer),
    Column("submitted_at", UTCDateTime()),
    Column("completed_at", UTCDateTime()),
    Column("last_polled_at", UTCDateTime()),
    Column("intent_at", UTCDateTime()),
    Column("polls", Integer, nullable=False, server_default="0"),
    Column("next_poll_at", UTCDateTime()),
    Column("download_failures", Integer, nullable=False, server_default="0"),
    UniqueConstraint("job_id", "number"),
)

VOICES = Table(
    "voices",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("customer_id", String(36), ForeignKey("customers.id"), index=True),
    Column("name", String(255)),
    Column("clone_job_id", String(64), unique=True),
    Column("voice_id", String(64), index=True),
    Column("status", String(20), nullable=False),
    Column("sample_paths", JSON, nullable=False),
    Column("last_error", Text),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    Index("ix_voices_created_at_id", "created_at", "id"),
)


# The rows, as plain values: `Job(**row)` reads one, `asdict(job)` is what inserting it writes.
@dataclass(slots=True, kw_only=True)
class Customer:
    """A customer with its usage (summed from `CUSTOMER_USAGE`; not columns of its row)."""

    id: str
    external_ref: str
    name: str
    audio_seconds: float = 0.0
    credits_spent: int = 0
    jobs_ready: int = 0
    jobs_failed: int = 0
    created_at: datetime
    updated_at: datetime


@dataclass(slots=True, kw_only=True)
class Job:
    id: str
    customer_id: str | None = None
    tracked: bool = True  # False: a generation this service did not submit
    voice_id: str | None = None
    script: str | None = None
    format: str = "mp3"
    settings: dict[str, Any] = field(default_factory=dict)
    external_ref: str | None = None
    # The app's small JSON object, echoed as the job document's `metadata` (a name that
    # SQLAlchemy's declarative classes keep for themselves).
    app_metadata: dict[str, Any] | None = None
    status: str
    attempts_made: int = 0
    max_attempts: int = 3
    next_attempt_at: datetime | None = None
    last_error: str | None = None
    audio_path: str | None = None  # the store's key
    # Which store holds it: `local` (AUDIO_DIR) or `s3://bucket/prefix`.
    audio_store: str | None = None
    audio_pruned_at: datetime | None = None
    audio_bytes: int | None = None
    audio_sha256: str | None = None
    audio_duration_sec: float | None = None
    credits: int = 0
    created_at: datetime
    updated_at: datetime
    ready_at: datetime | None = None


@dataclass(slots=True, kw_only=True)
class Attempt:
    """One upstream generation made for a job; a retry is a new attempt."""

    id: str
    job_id: str
    number: int = 1
    generation_id: str | None = None
    status: str
    error: str | None = None
    estimated_credits: int | None = None
    submitted_at: datetime | None = None
    completed_at: datetime | None = None
    last_polled_at: datetime | None = None
    # When the submission was about to POST: the window its generation was made in.
    intent_at: datetime | None = None
    polls: int = 0
    next_poll_at: datetime | None = None
    download_failures: int = 0


@dataclass(slots=True, kw_only=True)
class Voice:
    """A customer's cloned voice, from the clone job to the upstream voice id."""

    id: str
    customer_id: str | None = None
    name: str | None = None
    clone_job_id: str | None = None
    voice_id: str | None = None
    status: str
    sample_paths: list[str] = field(default_factory=list)
    last_error: str | None = None
    created_at: datetime
    updated_at: datetime
