"""Every table voicehook owns, gathered in one MetaData for Alembic and for tests."""

from sqlmodel import SQLModel

from records import audit, events, idempotency_tables, jobs, outbox_tables  # noqa: F401 - registers the tables on SQLModel.metadata

target_metadata = SQLModel.metadata
