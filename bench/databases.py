"""The database a bench run writes to: a fresh SQLite file, or a fresh PostgreSQL schema."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path

from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from bench.errors import BenchError
from bench.report import redact_url
from bench.verify import StoredState
from config.database import make_engine
from config.settings import Settings, normalise_database_url
from records import migrate
from records.events import DELIVERIES, EVENTS, EventStatus


class DatabaseKind(StrEnum):
    SQLITE = "sqlite"
    POSTGRESQL = "postgresql"


@contextmanager
def bench_database(kind: DatabaseKind, url: str | None, workdir: Path) -> Iterator[str]:
    """The URL a bench's service runs on: `url` or a fresh file under `workdir` for SQLite,
    a fresh schema of `url` (dropped afterwards) for PostgreSQL."""
    if kind is DatabaseKind.SQLITE:
        url = url or sqlite_url(workdir)
        if not url.startswith("sqlite:"):
            raise BenchError(f"--database sqlite needs a sqlite:/// URL, not {redact_url(url)}")
        yield url
        return
    if not url:
        raise BenchError("--database postgresql needs --database-url (or TEST_DATABASE_URL)")
    if not url.startswith(("postgresql:", "postgres:", "postgresql+")):
        raise BenchError(f"not a PostgreSQL URL: {redact_url(url)}")
    with postgres_schema(url) as schema_url:
        yield schema_url


def sqlite_url(directory: Path) -> str:
    return f"sqlite:///{directory / 'bench.db'}"


@contextmanager
def postgres_schema(url: str) -> Iterator[str]:
    """Create schema `bench_<random>`, yield `url` pointed at it, drop it afterwards."""
    schema = f"bench_{secrets.token_hex(4)}"
    admin = create_engine(normalise_database_url(url), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        try:
            yield with_search_path(url, schema)
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    finally:
        admin.dispose()


def with_search_path(url: str, schema: str) -> str:
    """`url` with libpq `options` that put `schema` first on the search path."""
    parsed = make_url(url)
    existing = parsed.query.get("options")
    options = f"-csearch_path={schema}"
    if existing:
        joined = " ".join(existing) if isinstance(existing, tuple) else existing
        options = f"{joined} {options}"
    return parsed.update_query_dict({"options": options}).render_as_string(hide_password=False)


def prepare(url: str) -> None:
    """Migrate the schema; refuse a database that already holds events."""
    engine = make_engine(Settings(database_url=url))
    try:
        migrate.upgrade(engine)
        with engine.connect() as conn:
            existing = conn.execute(select(func.count()).select_from(EVENTS)).scalar_one()
    finally:
        engine.dispose()
    if existing:
        raise BenchError(
            f"the database already holds {existing} events; the bench needs an empty one"
        )


def read_stored(url: str) -> StoredState:
    engine = make_engine(Settings(database_url=url))
    try:
        with engine.connect() as conn:
            ids = frozenset(conn.execute(select(EVENTS.c.id)).scalars())
            queued = conn.execute(
                select(func.count())
                .select_from(EVENTS)
                .where(EVENTS.c.status == EventStatus.QUEUED.value)
            ).scalar_one()
            deliveries = conn.execute(select(func.count()).select_from(DELIVERIES)).scalar_one()
            duplicates = conn.execute(
                select(func.count()).select_from(DELIVERIES).where(DELIVERIES.c.duplicate)
            ).scalar_one()
    finally:
        engine.dispose()
    return StoredState(
        events=len(ids),
        deliveries=deliveries,
        duplicate_deliveries=duplicates,
        queued_events=queued,
        event_ids=ids,
    )
