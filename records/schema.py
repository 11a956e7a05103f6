"""Every table voicehook owns, gathered in one MetaData for Alembic and for tests."""

from records import audit, events, idempotency_tables, jobs, outbox_tables  # noqa: F401 - declares the tables on `metadata`
from records.metadata import metadata

target_metadata = metadata
