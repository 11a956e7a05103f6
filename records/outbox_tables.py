"""The outbox of notifications to the business's app: its endpoints, each notification
(written in the transaction of the change it reports), and one delivery per endpoint."""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
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


class EventType(StrEnum):
    JOB_READY = "job.ready"
    JOB_FAILED = "job.failed"
    JOB_BLOCKED = "job.blocked"
    VOICE_READY = "voice.ready"
    VOICE_FAILED = "voice.failed"
    CUSTOMER_USAGE_UPDATED = "customer.usage_updated"


class DeliveryStatus(StrEnum):
    PENDING = "pending"  # due at next_attempt_at
    SENDING = "sending"  # a worker holds it until lease_until
    DELIVERED = "delivered"  # the endpoint answered 2xx
    FAILED = "failed"  # dead-lettered after the last attempt; `notifications resend` revives it


class EndpointSource(StrEnum):
    ENV = "env"  # from NOTIFY_URLS, signed with NOTIFY_SECRET (never stored)
    DATABASE = "db"  # added with `voicehook endpoints add`, its secret stored here


# SQLite gives a rowid alias only to a plain INTEGER primary key; PostgreSQL wants a bigint.
SEQUENCE_TYPE = BigInteger().with_variant(Integer(), "sqlite")

NOTIFY_ENDPOINTS = Table(
    "notify_endpoints",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("url", Text, nullable=False),
    Column("source", String(8), nullable=False),
    # Event types it wants; an empty list means every type.
    Column("event_types", JSON, nullable=False),
    Column("secret", Text),
    Column("previous_secret", Text),
    Column("previous_secret_expires_at", UTCDateTime()),
    Column("max_in_flight", Integer),
    Column("failing_since", UTCDateTime()),
    Column("flagged_at", UTCDateTime()),
    Column("last_success_at", UTCDateTime()),
    Column("last_error", Text),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
)

NOTIFICATIONS = Table(
    "notifications",
    metadata,
    # Assigned at insert, after the change's row locks are held: per job, voice or customer
    # a later change always has a larger sequence.
    Column("sequence", SEQUENCE_TYPE, primary_key=True, autoincrement=True),
    Column("id", String(40), nullable=False, unique=True),  # the webhook-id
    Column("type", String(40), nullable=False),
    Column("subject_id", String(36), nullable=False, index=True),
    Column("data", JSON, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
)

NOTIFY_DELIVERIES = Table(
    "notify_deliveries",
    metadata,
    Column("id", String(36), primary_key=True),
    Column(
        "notification_sequence",
        SEQUENCE_TYPE,
        ForeignKey("notifications.sequence", ondelete="CASCADE"),
        nullable=False,
    ),
    Column(
        "endpoint_id",
        String(36),
        ForeignKey("notify_endpoints.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("status", String(12), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", UTCDateTime(), nullable=False),
    Column("lease_until", UTCDateTime()),
    Column("enqueued_at", UTCDateTime()),
    Column("last_status_code", Integer),
    Column("last_error", Text),
    Column("delivered_at", UTCDateTime()),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    UniqueConstraint("notification_sequence", "endpoint_id"),
    Index("ix_notify_deliveries_status_next_attempt_at", "status", "next_attempt_at"),
    Index("ix_notify_deliveries_endpoint_id_status", "endpoint_id", "status"),
)
