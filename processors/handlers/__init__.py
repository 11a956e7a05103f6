"""Plain functions, one per event type; no Dramatiq in sight. They raise `RetryLater` for
what time will fix and `PermanentFailure` for what it will not."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Settled:
    """A handler's note when its last transaction also settled the event as processed
    (so the dispatcher does not settle it again)."""

    note: str
