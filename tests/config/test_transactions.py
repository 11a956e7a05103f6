"""`transaction`: commits that do not wait for the disk when asked, and SQLite's writers of
one process taking turns instead of racing for the database's lock; PostgreSQL's
`single_statements`, and its engine without the pre-ping."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import IntegrityError, OperationalError

from config.database import (
    database_busy,
    is_sqlite,
    make_engine,
    single_statements,
    transaction,
)
from config.settings import Settings

SQLITE_FULL, SQLITE_NORMAL = 2, 1


def _engine(url: str, timeout: float = 5.0) -> Iterator[Engine]:
    engine = make_engine(Settings(database_url=url, database_timeout_seconds=timeout))
    with transaction(engine) as conn:
        conn.execute(text("CREATE TABLE marks (n INTEGER NOT NULL)"))
    yield engine
    engine.dispose()


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    yield from _engine(database_url)


@pytest.fixture
def sqlite_marks(sqlite_url: str) -> Iterator[Engine]:
    yield from _engine(sqlite_url)


@pytest.fixture
def quick_sqlite(sqlite_url: str) -> Iterator[Engine]:
    """SQLite whose busy timeout (and writers' turn) is a fifth of a second."""
    yield from _engine(sqlite_url, timeout=0.2)


def _sync_setting(conn: object, engine: Engine) -> object:
    query = "PRAGMA synchronous" if is_sqlite(engine) else "SHOW synchronous_commit"
    return conn.exec_driver_sql(query).scalar()  # type: ignore[attr-defined]


def test_not_durable_is_asked_per_transaction(engine: Engine) -> None:
    lazy, full = (SQLITE_NORMAL, SQLITE_FULL) if is_sqlite(engine) else ("off", "on")
    for durable, expected in [(True, full), (False, lazy), (True, full), (False, lazy)]:
        # The pool hands the same connection back: a lazy commit must not stay its default.
        with transaction(engine, durable=durable) as conn:
            assert _sync_setting(conn, engine) == expected
            conn.execute(text("INSERT INTO marks (n) VALUES (1)"))
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM marks")).scalar_one() == 4


def test_sqlite_writers_of_a_process_take_turns(sqlite_marks: Engine) -> None:
    engine = sqlite_marks
    holding, release = threading.Event(), threading.Event()
    order: list[str] = []

    def first() -> None:
        with transaction(engine) as conn:
            conn.execute(text("INSERT INTO marks (n) VALUES (1)"))
            holding.set()
            release.wait(60)
            order.append("first commits")

    def second() -> None:
        with transaction(engine) as conn:
            order.append("second begins")
            conn.execute(text("INSERT INTO marks (n) VALUES (2)"))

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    threads[0].start()
    assert holding.wait(60)
    threads[1].start()
    with transaction(engine, write=False) as conn:  # readers never wait for a turn
        assert conn.execute(text("SELECT count(*) FROM marks")).scalar_one() == 0
    release.set()
    for thread in threads:
        thread.join(60)
    assert order == ["first commits", "second begins"]
    with engine.connect() as conn:
        assert conn.execute(text("SELECT n FROM marks ORDER BY n")).scalars().all() == [1, 2]


def test_a_writer_kept_out_past_the_busy_timeout_is_told_the_database_is_busy(
    quick_sqlite: Engine,
) -> None:
    holding, release = threading.Event(), threading.Event()

    def hold() -> None:
        with transaction(quick_sqlite) as conn:
            conn.execute(text("INSERT INTO marks (n) VALUES (1)"))
            holding.set()
            release.wait(60)

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert holding.wait(60)
        with pytest.raises(OperationalError) as caught, transaction(quick_sqlite) as conn:
            conn.execute(text("INSERT INTO marks (n) VALUES (2)"))
        assert database_busy(caught.value)
        # Kept out by the holder's turn, before SQLite's own lock was even asked for.
        assert "database is locked (by this process's writers" in str(caught.value)
    finally:
        release.set()
        holder.join(60)
    with quick_sqlite.connect() as conn:
        assert conn.execute(text("SELECT n FROM marks")).scalars().all() == [1]


@pytest.fixture
def unpinged_postgres(postgres_url: str) -> Iterator[Engine]:
    """PostgreSQL through an engine without the pre-ping (as a worker's), one pooled
    connection, with the `marks` table."""
    settings = Settings(database_url=postgres_url)
    engine = make_engine(settings, pool_size=1, pre_ping=False)
    with transaction(engine) as conn:
        conn.execute(text("CREATE TABLE marks (n INTEGER NOT NULL)"))
    yield engine
    engine.dispose()


def _marks(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM marks")).scalar_one())


def test_single_statements_commit_each_and_leave_the_pool_transactional(
    unpinged_postgres: Engine,
) -> None:
    """Each statement on `single_statements` commits alone (a failing one undoes only
    itself); the same pooled connection then runs a `transaction` that rolls back whole."""
    engine = unpinged_postgres
    with single_statements(engine) as conn:
        conn.execute(text("INSERT INTO marks (n) VALUES (1)"))
        with pytest.raises(IntegrityError):
            conn.execute(text("INSERT INTO marks (n) VALUES (NULL)"))
        conn.execute(text("INSERT INTO marks (n) VALUES (2)"))
    assert _marks(engine) == 2
    with pytest.raises(IntegrityError):
        _two_inserts(engine, 3, None)
    assert _marks(engine) == 2


def _two_inserts(engine: Engine, first: int, second: int | None) -> None:
    with transaction(engine) as conn:
        for n in (first, second):
            conn.execute(text("INSERT INTO marks (n) VALUES (:n)"), {"n": n})


def test_a_dropped_connection_without_the_ping_is_busy_once_then_replaced(
    unpinged_postgres: Engine,
) -> None:
    """Without the pre-ping, a pooled connection the server has ended fails its next use
    with an error `database_busy` recognises; the transaction after it gets a new one."""
    engine = unpinged_postgres
    with engine.connect() as conn:
        pid = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
    killer = make_engine(Settings(database_url=engine.url.render_as_string(hide_password=False)))
    with killer.connect() as other:
        assert other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar()
    with pytest.raises(OperationalError) as dropped, transaction(engine) as conn:
        conn.execute(text("INSERT INTO marks (n) VALUES (1)"))
    killer.dispose()
    assert database_busy(dropped.value)
    with transaction(engine) as conn:
        conn.execute(text("INSERT INTO marks (n) VALUES (2)"))
        assert conn.execute(text("SELECT pg_backend_pid()")).scalar_one() != pid
    assert _marks(engine) == 1
