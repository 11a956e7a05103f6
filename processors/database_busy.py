"""A database that cannot serve a step right now, as a `RetryLater` rather than a crash.

Under CPU load SQLite's write lock can be held past the busy timeout (a writer descheduled
mid-commit), and PostgreSQL can time out a lock or lose a connection. The step is safe to run
again — every handler is idempotent — so the work is postponed by a few seconds, with a
warning, instead of escaping the actor as an unhandled SQLAlchemy exception (which Dramatiq
logs as an error with its traceback, and retries on its own backoff).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager

from config.database import database_busy
from processors.errors import DatabaseBusy

MIN_DELAY_SECONDS = 1.0
MAX_DELAY_SECONDS = 5.0  # jittered between the two, so postponed work does not return at once


def busy_reason(exc: BaseException) -> str:
    """The driver's own words (`database is locked`), without the SQL and its parameters."""
    cause = getattr(exc, "orig", None) or exc
    lines = str(cause).strip().splitlines()
    return (lines[0] if lines else type(cause).__name__)[:200]


@contextmanager
def postponed_when_busy() -> Iterator[None]:
    """Turn a busy database into `DatabaseBusy`, to retry after a jittered few seconds."""
    try:
        yield
    except Exception as exc:
        if not database_busy(exc):
            raise
        delay = random.uniform(MIN_DELAY_SECONDS, MAX_DELAY_SECONDS)
        raise DatabaseBusy(delay, f"database busy: {busy_reason(exc)}") from exc
