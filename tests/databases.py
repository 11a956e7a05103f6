"""Migrated databases for tests, without running every migration for every test.

Each test process (an xdist worker, or the one process) migrates once: a SQLite file that
each test gets a copy of, and a PostgreSQL schema that each test gets emptied (DELETE from
every table but alembic_version, sequences restarted). A test that changed the schema itself
(dropped a table, added a trigger) leaves a different fingerprint; the schema is then
dropped and migrated again for the next test. The migration tests ask for an empty database
and run the real migrations from nothing.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, text

from config.database import make_engine
from config.settings import Settings
from records.migrate import upgrade
from records.schema import target_metadata

# What a test could change about the schema: relations, columns, triggers, functions, the
# revision. Compared before each test that takes the shared schema.
_TABLES = text(
    "SELECT tablename FROM pg_tables WHERE schemaname = :schema AND tablename <> 'alembic_version'"
)
_SEQUENCES = text("SELECT sequencename FROM pg_sequences WHERE schemaname = :schema")
_FINGERPRINT = text(
    """
    SELECT
      (SELECT count(*) FROM pg_class c WHERE c.relnamespace = n.oid),
      (SELECT count(*) FROM pg_attribute a JOIN pg_class c ON a.attrelid = c.oid
        WHERE c.relnamespace = n.oid AND a.attnum > 0 AND NOT a.attisdropped),
      (SELECT count(*) FROM pg_trigger t JOIN pg_class c ON t.tgrelid = c.oid
        WHERE c.relnamespace = n.oid AND NOT t.tgisinternal),
      (SELECT count(*) FROM pg_proc p WHERE p.pronamespace = n.oid)
    FROM pg_namespace n WHERE n.nspname = :schema
    """
)


def _children_first(table: str) -> int:
    """Sort key: a table after every table that refers to it (by the models' foreign keys)."""
    order = [table.name for table in reversed(target_metadata.sorted_tables)]
    return order.index(table) if table in order else -1


def migrate_url(database_url: str) -> None:
    """Run every migration on `database_url` (an empty database)."""
    engine = make_engine(Settings(database_url=database_url))
    try:
        upgrade(engine)
    finally:
        engine.dispose()


def schema_url(base_url: str, schema: str) -> str:
    """`base_url` with its search_path set to `schema`."""
    separator = "&" if "?" in base_url else "?"
    return f"{base_url}{separator}options=-csearch_path%3D{schema}"


def admin_engine(base_url: str) -> Engine:
    return create_engine(base_url.replace("postgresql://", "postgresql+psycopg://", 1))


class SqliteTemplate:
    """A SQLite file migrated once; tests get copies of it."""

    def __init__(self, folder: Path) -> None:
        self._path = folder / "migrated.db"
        self._ready = False

    def copy_to(self, database_url: str) -> None:
        """Write the migrated database at `database_url`'s path, unless a fixture before wrote
        it there (`database_url` and `sqlite_url` of one test share the path)."""
        if not self._ready:
            migrate_url(f"sqlite:///{self._path}")
            # One file, no WAL beside it: a copy of the main file is the whole database.
            with sqlite3.connect(self._path) as conn:
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            self._ready = True
        target = Path(database_url.removeprefix("sqlite:///"))
        if target.exists():
            return
        shutil.copyfile(self._path, target)
        os.chmod(target, 0o600)  # as the product creates it (config.database._create_private)


class PostgresTemplate:
    """A schema of this test process migrated once, emptied for each test that takes it."""

    def __init__(self, base_url: str, worker: str) -> None:
        self._base_url = base_url
        self._worker = worker
        self._admin = admin_engine(base_url)
        self._schema: str | None = None
        self._fingerprint: tuple[int, ...] = ()
        self._empty = ""

    def _build(self) -> str:
        schema = f"m_{self._worker}_{uuid.uuid4().hex[:8]}"
        with self._admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        migrate_url(schema_url(self._base_url, schema))
        with self._admin.begin() as conn:
            tables = conn.execute(_TABLES, {"schema": schema}).scalars().all()
            sequences = conn.execute(_SEQUENCES, {"schema": schema}).scalars().all()
            self._fingerprint = tuple(conn.execute(_FINGERPRINT, {"schema": schema}).one())
        # DELETE, children before parents: on tables this small it takes milliseconds where
        # TRUNCATE (new files for every table and index) takes a third of a second.
        tables = sorted(tables, key=_children_first)
        self._empty = ";".join(
            [f'DELETE FROM "{schema}"."{name}"' for name in tables]  # noqa: S608 - catalog names
            + [f'ALTER SEQUENCE "{schema}"."{name}" RESTART' for name in sequences]
        )
        self._schema = schema
        return schema

    def _drop(self) -> None:
        if self._schema is not None:
            with self._admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA "{self._schema}" CASCADE'))
            self._schema = None

    def emptied(self) -> str:
        """The migrated schema's URL, every table emptied; migrated afresh if a test before
        changed the schema."""
        if self._schema is not None:
            with self._admin.begin() as conn:
                found = tuple(conn.execute(_FINGERPRINT, {"schema": self._schema}).one())
                if found == self._fingerprint:
                    conn.exec_driver_sql(self._empty)
                    return schema_url(self._base_url, self._schema)
            self._drop()
        return schema_url(self._base_url, self._build())

    def close(self) -> None:
        try:
            self._drop()
        finally:
            self._admin.dispose()


@contextmanager
def postgres_template(base_url: str, worker: str) -> Iterator[PostgresTemplate]:
    template = PostgresTemplate(base_url, worker)
    try:
        yield template
    finally:
        template.close()
