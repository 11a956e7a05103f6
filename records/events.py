"""The durable record of what the upstream told us: events, and every delivery of them."""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
)

from records.metadata import metadata
from records.types import UTCDateTime


class EventStatus(StrEnum):
    RECEIVED = "received"
    QUEUED = "queued"
    PROCESSING = "processing"
    PROCESSED = "processed"
    FAILED = "failed"
    IGNORED = "ignored"


# The Core tables, which the repositories in `records/` speak to.

# One logical upstream event, however many times it was delivered.
EVENTS = Table(
    "events",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("type", String(100), nullable=False),
    Column("resource_id", String(255)),
    Column("dedup_key", String(255), nullable=False, unique=True),
    Column("body_timestamp", UTCDateTime()),
    Column("status", String(20), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("last_error", Text),
    Column("received_at", UTCDateTime(), nullable=False, index=True),
    Column("queued_at", UTCDateTime()),
    Column("started_at", UTCDateTime()),
    Column("finished_at", UTCDateTime()),
    Column("updated_at", UTCDateTime(), nullable=False),
    Index("ix_events_status_received_at", "status", "received_at"),
    # The dashboard's filters, each paged by (received_at, id) (migration 0010).
    Index("ix_events_type_received_at", "type", "received_at"),
    Index("ix_events_resource_id", "resource_id"),
)

# One verified POST, kept exactly as received so it can be exported and replayed.
DELIVERIES = Table(
    "deliveries",
    metadata,
    Column("id", Integer, primary_key=True),
    Column(
        "event_id",
        String(36),
        ForeignKey("events.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("received_at", UTCDateTime(), nullable=False, index=True),
    # Text: any address a router forwards fits (migration 0004).
    Column("remote_addr", Text),
    Column("headers", JSON, nullable=False),
    Column("body", LargeBinary),
    Column("body_size", Integer, nullable=False, default=0),
    # A duplicate whose bytes equal an earlier delivery's body: that delivery's id, and
    # `body` NULL (no copy). `stored_body` reads either.
    Column("body_of", Integer),
    Column("secret_fingerprint", String(16), nullable=False),
    Column("duplicate", Boolean, nullable=False, default=False),
)
