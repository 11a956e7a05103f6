"""SQLite's one writer at a time, across processes, each waiter woken as soon as it is free.

SQLite admits one writer; one kept out polls, its busy handler sleeping 1, 2, 5, 10, 15, 20,
25, 25, 25, 50, 50, then 100 ms between tries, so a transaction that meets another process's
gets in only at its next try, later the longer it has waited, while the lock may have been
free for most of the sleep. In `bench e2e` at 20 events/s (five writing processes: the
receiver's API and writer, the submissions' and the two events' workers) a `BEGIN IMMEDIATE`
waited p90 20-80 ms and p99 250-530 ms, up to 2 s, for transactions that hold the lock about
2 ms.

So every write transaction of ours first takes an exclusive `flock` on a file beside the
database, and a waiter is woken the moment the holder lets go (at its commit or rollback, or
when its process dies: the lock goes with its file descriptor, so a killed worker never
leaves it taken); the waiter then takes the lock itself, running, so the lock is never held
across a wake-up. SQLite's lock stays the authority: a writer that does not take this one
(the `sqlite3` shell, a migration) meets ours there, as before.
"""

from __future__ import annotations

import _thread
import fcntl
import os
import threading
import time
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
    try:
        yield _lock(fd, path, time.monotonic() + timeout)
    finally:
        os.close(fd)  # lets the lock go


def _lock(fd: int, path: Path, deadline: float) -> bool:
    """Take the lock on `fd` by the deadline: try, and while someone holds it, wait for the
    moment it is let go (`_free_again`), then try again."""
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            pass
        else:
            return True
        remaining = deadline - time.monotonic()
        if remaining <= 0 or not _free_again(path, remaining):
            return False


def _free_again(path: Path, timeout: float) -> bool:
    """Whether the lock was let go within `timeout`.

    `flock` has no time-out of its own, so a thread of its own waits for the lock on a
    descriptor of its own and lets it go the moment it has it; this thread is woken then.
    The lock is never held by a thread that is not running (a wake-up on a busy machine can
    take milliseconds), and a wait given up on ends by itself, harmlessly, when the lock is
    let go.
    """
    free = threading.Event()

    def wait() -> None:
        try:
            probe = os.open(path, os.O_RDWR | os.O_CLOEXEC)
        except OSError:
            free.set()  # gone: the caller's try will say
            return
        try:
            fcntl.flock(probe, fcntl.LOCK_EX)
        except OSError:
            pass
        finally:
            os.close(probe)
        free.set()

    # Not `threading.Thread.start`, which waits for the thread to be running: on a busy
    # machine that is one more wait for the scheduler.
    _thread.start_new_thread(wait, ())
    return free.wait(timeout)
