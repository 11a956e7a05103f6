"""The durable record of what the upstream told us: events, and every delivery of them."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
)
from sqlmodel import Field, SQLModel

from records.types import UTCDateTime


class EventStatus(StrEnum):
    RECEIVED = "received"
    QUEUED = "queued"
    PROCESSING = "processing"
    PROCESSED = "processed"
    FAILED = "failed"
    IGNORED = "ignored"


class Event(SQLModel, table=True):
    """One logical upstream event, however many times it was delivered."""

    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_status_received_at", "status", "received_at"),
        # The dashboard's filters, each paged by (received_at, id) (migration 0010).
        Index("ix_events_type_received_at", "type", "received_at"),
        Index("ix_events_resource_id", "resource_id"),
    )

    id: str = Field(sa_column=Column(String(36), primary_key=True))
    type: str = Field(sa_column=Column(String(100), nullable=False))
    resource_id: str | None = Field(default=None, sa_column=Column(String(255)))
    dedup_key: str = Field(sa_column=Column(String(255), nullable=False, unique=True))
    body_timestamp: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    status: str = Field(sa_column=Column(String(20), nullable=False))
    attempts: int = Field(default=0)
    last_error: str | None = Field(default=None, sa_column=Column(Text))
    received_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False, index=True))
    queued_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    started_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    finished_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    updated_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class Delivery(SQLModel, table=True):
    """One verified POST, kept exactly as received so it can be exported and replayed."""

    __tablename__ = "deliveries"

    id: int | None = Field(default=None, primary_key=True)
    event_id: str = Field(
        sa_column=Column(
            String(36), ForeignKey("events.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    received_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False, index=True))
    # Text: any address a router forwards fits (migration 0004).
    remote_addr: str | None = Field(default=None, sa_column=Column(Text))
    headers: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    body: bytes | None = Field(default=None, sa_column=Column(LargeBinary))
    body_size: int = Field(default=0)
    # A duplicate whose bytes equal an earlier delivery's body: that delivery's id, and
    # `body` NULL (no copy). `stored_body` reads either.
    body_of: int | None = Field(default=None, sa_column=Column(Integer))
    secret_fingerprint: str = Field(sa_column=Column(String(16), nullable=False))
    duplicate: bool = Field(default=False)


# The Core tables, which the repositories in `records/` speak to.
EVENTS: Table = SQLModel.metadata.tables["events"]
DELIVERIES: Table = SQLModel.metadata.tables["deliveries"]
