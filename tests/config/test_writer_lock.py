"""`config.writer_lock`: SQLite's writers of different processes queue on a lock file, each
let in as soon as the one before lets go, the lock never outliving its holder."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError

from config.database import database_busy, make_engine, transaction
from config.settings import Settings
from config.writer_lock import exclusive, lock_file_of

HOLD = """
import fcntl, os, sys
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT)
fcntl.flock(fd, fcntl.LOCK_EX)
print("held", flush=True)
sys.stdin.read()
"""


@pytest.fixture
def lock_path(tmp_path: Path) -> Path:
    return lock_file_of(tmp_path / "voicehook.db")


class TestExclusive:
    def test_a_free_lock_is_had_at_once(self, lock_path: Path) -> None:
        """Nobody holding it: the block runs with the lock, and the file is made owner-only."""
        with exclusive(lock_path, timeout=30) as got:
            assert got
        assert lock_path.stat().st_mode & 0o077 == 0

    def test_a_waiter_is_let_in_when_the_holder_lets_go(self, lock_path: Path) -> None:
        """A second holder (another open file, as another process's) waits, then gets it."""
        order: list[str] = []
        waiting = threading.Event()

        def second() -> None:
            waiting.set()
            with exclusive(lock_path, timeout=60) as got:
                order.append(f"second got it: {got}")

        with exclusive(lock_path, timeout=30) as got:
            assert got
            thread = threading.Thread(target=second)
            thread.start()
            assert waiting.wait(60)
            order.append("first lets go")
        thread.join(60)
        assert order == ["first lets go", "second got it: True"]

    def test_a_wait_given_up_on_keeps_nobody_out(self, lock_path: Path) -> None:
        """Not had in time: False; the abandoned wait does not keep the lock from the next."""
        with exclusive(lock_path, timeout=30) as got:
            assert got
            with exclusive(lock_path, timeout=0.01) as late:
                assert not late
        with exclusive(lock_path, timeout=60) as again:
            assert again

    def test_the_lock_dies_with_its_process(self, lock_path: Path) -> None:
        """A holder killed mid-transaction (SIGKILL) never leaves the lock taken."""
        holder = subprocess.Popen(
            [sys.executable, "-c", HOLD, str(lock_path)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert holder.stdout is not None
            assert holder.stdout.readline().strip() == "held"
            with exclusive(lock_path, timeout=0.01) as got:
                assert not got
        finally:
            holder.kill()
            holder.wait(60)
        with exclusive(lock_path, timeout=60) as got:
            assert got


def _engine(url: str, timeout: float) -> Engine:
    return make_engine(Settings(database_url=url, database_timeout_seconds=timeout))


@pytest.fixture
def two_engines(tmp_path: Path) -> Iterator[tuple[Engine, Engine]]:
    """Two engines on one SQLite file, as two processes have (each its own threads' turn)."""
    url = f"sqlite:///{tmp_path / 'voicehook.db'}"
    first, second = _engine(url, 5.0), _engine(url, 0.2)
    with transaction(first) as conn:
        conn.execute(text("CREATE TABLE marks (n INTEGER NOT NULL)"))
    yield first, second
    first.dispose()
    second.dispose()


class TestWritersOfTwoProcesses:
    def test_they_take_turns_on_the_lock_file(self, two_engines: tuple[Engine, Engine]) -> None:
        """The second engine's writer waits for the first's commit, then writes."""
        first, second = two_engines
        holding, release = threading.Event(), threading.Event()
        order: list[str] = []

        def hold() -> None:
            with transaction(first) as conn:
                conn.execute(text("INSERT INTO marks (n) VALUES (1)"))
                holding.set()
                release.wait(60)
                order.append("first commits")

        holder = threading.Thread(target=hold)
        holder.start()
        try:
            assert holding.wait(60)
            # Kept out past its (short) timeout by the other engine's turn, not SQLite's lock.
            with pytest.raises(OperationalError) as caught, transaction(second) as conn:
                conn.execute(text("INSERT INTO marks (n) VALUES (2)"))
            assert database_busy(caught.value)
            assert "database is locked (by another process's writer" in str(caught.value)
        finally:
            release.set()
            holder.join(60)
        with transaction(second) as conn:
            order.append("second begins")
            conn.execute(text("INSERT INTO marks (n) VALUES (3)"))
        assert order == ["first commits", "second begins"]
        with first.connect() as conn:
            assert conn.execute(text("SELECT n FROM marks ORDER BY n")).scalars().all() == [1, 3]
