"""Database engines and transactions for SQLite (laptop) and PostgreSQL (production).

SQLite runs in WAL mode with `synchronous=FULL`, so a commit is on disk before anyone is told
it happened; write transactions start with `BEGIN IMMEDIATE` (ask for it with
`write_options()`), so two processes never deadlock upgrading a read lock. Bookkeeping whose
loss only repeats work may commit without waiting for the disk (`transaction(durable=False)`).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.pool import NullPool

from config import writer_lock
from config.database_settings import DatabaseSettings
from config.errors import ConfigurationError

IMMEDIATE = "voicehook_immediate"
AFTER_COMMIT = "voicehook_after_commit"
NOT_DURABLE = "voicehook_not_durable"

# SQLite lets one writer in at a time, and a writer kept out polls (its busy handler sleeps
# up to 100 ms between tries, the longest waiters the longest), so a dozen threads of one
# process racing for the lock starve each other for seconds. The threads of a process queue
# here instead, each woken as soon as the one before has committed, and the one writer of
# each process queues for the processes' lock file (`config.writer_lock`), woken as soon as
# the other process's writer has committed. By engine: the lock, its file (None for an
# in-memory database), and how long to wait for them.
_sqlite_writers: weakref.WeakKeyDictionary[Engine, tuple[threading.Lock, Path | None, float]] = (
    weakref.WeakKeyDictionary()
)


def write_options() -> dict[str, Any]:
    """Execution options for a connection that will write (SQLite: `BEGIN IMMEDIATE`)."""
    return {IMMEDIATE: True}


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


# Pooled PostgreSQL connections older than this are replaced at their next checkout, before
# a server's or a proxy's idle time-out (commonly 30 min and more) can cut them.
POOL_RECYCLE_SECONDS = 600


def make_engine(settings: DatabaseSettings, *, pool_size: int = 5, pre_ping: bool = True) -> Engine:
    """Build the engine for `DATABASE_URL`, creating the SQLite file's own folder when needed
    (never the folders above it: a mistyped path is an error, not a new tree).

    `pre_ping=False` skips PostgreSQL's `SELECT 1` at each checkout (a round trip per
    transaction): a connection the server has dropped then fails its first statement with
    an OperationalError, which `database_busy` counts as busy (the work is tried again a
    few seconds later), and SQLAlchemy replaces every connection of the pool opened before
    it; connections are recycled after `POOL_RECYCLE_SECONDS` in any case."""
    url = make_url(settings.database_url)
    timeout = settings.database_timeout_seconds
    if url.get_backend_name() == "sqlite":
        return _sqlite_engine(settings.database_url, url.database, timeout)
    statement_ms = int(timeout * 1000)
    return create_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=pre_ping,
        pool_recycle=POOL_RECYCLE_SECONDS,
        pool_timeout=timeout,
        connect_args={
            "connect_timeout": max(1, int(timeout)),
            "options": f"-c statement_timeout={statement_ms} -c lock_timeout={statement_ms}"
            + _existing_options(url.query.get("options")),
        },
    )


def _existing_options(options: str | tuple[str, ...] | None) -> str:
    if options is None:
        return ""
    if isinstance(options, tuple):
        options = " ".join(options)
    return " " + options


def _create_private(path: Path) -> None:
    """Create the database file readable by its owner only (it holds every body); SQLite's
    WAL and journal files take the main file's mode."""
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))


def _sqlite_engine(raw_url: str, database: str | None, timeout: float) -> Engine:
    lock_file = None
    if database and database != ":memory:":
        folder = Path(database).parent
        if not folder.parent.is_dir():
            raise ConfigurationError(
                f"DATABASE_URL points into {folder}, but {folder.parent} does not exist: "
                "voicehook creates only the database file's own folder"
            )
        folder.mkdir(exist_ok=True)
        _create_private(Path(database))
        lock_file = writer_lock.lock_file_of(Path(database).resolve())
    engine = create_engine(
        raw_url,
        poolclass=NullPool if lock_file is None else None,
        connect_args={"timeout": timeout, "check_same_thread": False},
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control from the driver so BEGIN is ours to choose.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(timeout * 1000)}")
        cursor.close()

    _sqlite_writers[engine] = (threading.Lock(), lock_file, timeout)

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        options = connection.get_execution_options()
        # Per connection, and pooled connections are reused: set on every transaction.
        sync = "NORMAL" if options.get(NOT_DURABLE) else "FULL"
        connection.exec_driver_sql(f"PRAGMA synchronous={sync}")
        if options.get(IMMEDIATE):
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            connection.exec_driver_sql("BEGIN")

    return engine


@contextmanager
def transaction(
    engine: Engine, *, write: bool = True, durable: bool = True
) -> Iterator[Connection]:
    """One transaction on a connection of its own: commit on success, roll back on error.

    What `after_commit` registered on the connection runs once the commit has succeeded
    (never after a rollback), after the connection went back to the pool.

    `durable=False` commits without waiting for the disk (SQLite `synchronous=NORMAL` in WAL
    mode, PostgreSQL `synchronous_commit=off`): only for bookkeeping whose loss repeats work
    and loses none. A power cut or OS crash (not a process crash) may undo such commits, but
    only the newest ones, as if they had rolled back — never a durable commit, and never
    one that a later durable commit followed (the log is written in order) — and never
    corrupts the database.
    """
    with writer_turn(engine, write):
        connection = engine.connect()
        if write:
            connection = connection.execution_options(**write_options())
        if not durable:
            connection = connection.execution_options(**{NOT_DURABLE: True})
        with connection:
            try:
                with connection.begin():
                    if not durable and not is_sqlite(engine):
                        connection.exec_driver_sql("SET LOCAL synchronous_commit TO OFF")
                    yield connection
                    callbacks: list[Callable[[], None]] = connection.info.pop(AFTER_COMMIT, [])
            finally:
                connection.info.pop(AFTER_COMMIT, None)  # `info` outlives this checkout
    for callback in callbacks:
        callback()


@contextmanager
def single_statements(engine: Engine) -> Iterator[Connection]:
    """A PostgreSQL connection on which each statement commits by itself, as durably as a
    `transaction`: for a change made in one statement, which then costs one round trip
    instead of three (`BEGIN`, the statement, `COMMIT`). Not for SQLite, whose writes must
    start with `BEGIN IMMEDIATE` (see above)."""
    assert not is_sqlite(engine), "single_statements is for PostgreSQL only"
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        yield connection


@contextmanager
def writer_turn(engine: Engine, write: bool = True) -> Iterator[None]:
    """On SQLite, a write transaction's turn among this process's threads, then among the
    processes (see above); kept out past the busy timeout, the same OperationalError
    SQLite's lock would raise. Elsewhere, nothing."""
    writer = _sqlite_writers.get(engine) if write else None
    if writer is None:
        yield
        return
    lock, lock_file, timeout = writer
    deadline = time.monotonic() + timeout
    if not lock.acquire(timeout=timeout):
        raise _locked("this process's writers", timeout)
    try:
        if lock_file is None:
            yield
            return
        with writer_lock.exclusive(lock_file, max(0.0, deadline - time.monotonic())) as got:
            if not got:
                raise _locked("another process's writer", timeout)
            yield
    finally:
        lock.release()


def _locked(by: str, timeout: float) -> OperationalError:
    return OperationalError(
        "BEGIN IMMEDIATE",
        None,
        sqlite3.OperationalError(f"database is locked (by {by} for {timeout:g}s)"),
    )


def after_commit(connection: Connection, callback: Callable[[], None]) -> None:
    """Run `callback` when the `transaction` of this connection has committed."""
    connection.info.setdefault(AFTER_COMMIT, []).append(callback)


def database_busy(exc: BaseException) -> bool:
    """Whether `exc` is the database unable to serve right now rather than a bug: SQLite's
    lock held past the busy timeout, PostgreSQL's lock or statement time-out, a deadlock or
    serialization failure, a lost connection (all OperationalErrors), or no pooled
    connection free in time. Trying again later is the cure for each."""
    return isinstance(exc, OperationalError | PoolTimeout)


def ping(engine: Engine) -> None:
    """Ask the database for `SELECT 1`; SQLAlchemyError when it does not answer."""
    with engine.connect() as connection:
        connection.execute(text("SELECT 1"))


def database_answers(engine: Engine) -> bool:
    try:
        ping(engine)
    except SQLAlchemyError:
        return False
    return True
