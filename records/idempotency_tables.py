"""Idempotency keys of the internal API: the first answer to each (operation, key)."""

from __future__ import annotations

from sqlalchemy import JSON, Column, Index, Integer, String, Table, Text

from records.metadata import metadata
from records.types import UTCDateTime

MAX_KEY_LENGTH = 255

IDEMPOTENCY_KEYS = Table(
    "idempotency_keys",
    metadata,
    # The operation (`POST /api/jobs`) and the client's key: unique together, which is what
    # makes concurrent requests with one key create one resource.
    Column("operation", String(64), primary_key=True),
    Column("key", String(MAX_KEY_LENGTH), primary_key=True),
    Column("request_sha256", String(64), nullable=False),
    Column("status", Integer, nullable=False),
    Column("body", JSON, nullable=False),
    Column("location", Text),
    Column("created_at", UTCDateTime(), nullable=False),
    Index("ix_idempotency_keys_created_at", "created_at"),
)
