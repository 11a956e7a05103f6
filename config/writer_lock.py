"""SQLite's one writer at a time, across processes, each waiter woken as soon as it is free.

SQLite admits one writer; one kept out polls, its busy handler sleeping 1, 2, 5, 10, 15, 20,
25, 25, 25, 50, 50, then 100 ms between tries, so a transaction that meets another process's
gets in only at its next try, later the longer it has waited, while the lock may have been
free for most of the sleep. In `bench e2e` at 20 events/s (five writing processes: the
receiver's API and writer, the submissions' and the two events' workers) a `BEGIN IMMEDIATE`
waited p90 20-80 ms and p99 250-530 ms, up to 2 s, for transactions that hold the lock about
2 ms.

So every write transaction of ours first takes an exclusive `flock` on a file beside the
database, and the kernel wakes a waiter the moment the holder lets go: at its commit or
rollback, or when its process dies (the lock goes with its file descriptor, so a killed
worker never leaves it taken). SQLite's lock stays the authority: a writer that does not take
this one (the `sqlite3` shell, a migration) meets ours there, as before.
"""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

LOCK_SUFFIX = ".writer-lock"


def lock_file_of(database: Path) -> Path:
    """The lock file beside a database file."""
    return database.with_name(database.name + LOCK_SUFFIX)


@contextmanager
def exclusive(path: Path, timeout: float) -> Iterator[bool]:
    """Hold the lock on `path` for the block; yields False if it was not had within
    `timeout` seconds (the block then runs without it: the caller decides what to do)."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    got: bool | None = True
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            got = _Waiter(fd).wait(timeout)
        yield bool(got)
    finally:
        if got is not None:  # None: the waiter given up on closes it
            os.close(fd)  # lets the lock go


class _Waiter:
    """A blocking `flock` on a thread of its own, waited for at most a time-out.

    `flock` has no time-out of its own. If the wait is given up, the thread keeps the file
    descriptor and closes it once its `flock` returns, which lets the lock go at once."""

    def __init__(self, fd: int) -> None:
        self._fd = fd
        self._mutex = threading.Lock()
        self._done = threading.Event()
        self._got = False
        self._given_up = False

    def wait(self, timeout: float) -> bool | None:
        """True: locked in time; False: `flock` failed; either way the descriptor is still
        the caller's. None: not in time, and the descriptor is the thread's to close."""
        threading.Thread(target=self._run, name="sqlite-writer-lock", daemon=True).start()
        self._done.wait(timeout)
        with self._mutex:
            if self._done.is_set():
                return self._got
            self._given_up = True
            return None

    def _run(self) -> None:
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX)
            got = True
        except OSError:
            got = False
        with self._mutex:
            self._got = got
            self._done.set()
            given_up = self._given_up
        if given_up:
            os.close(self._fd)
