"""Warnings an unauthenticated client can cause, written at most once per interval.

A forged request or a refused connection is worth a log line, but one per request would let
anyone flood the log (and the disk behind it) for free. `SampledWarning` writes the first
occurrence, then at most one line per `interval` carrying how many were suppressed since.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import structlog

log = structlog.get_logger(__name__)

INTERVAL_SECONDS = 10.0


class SampledWarning:
    """Logs `event` at warning level at most once per `interval` seconds."""

    def __init__(
        self,
        event: str,
        interval: float = INTERVAL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._event = event
        self._interval = interval
        self._clock = clock
        self._next = float("-inf")
        self._suppressed = 0

    def warn(self, **context: object) -> bool:
        """Log this occurrence unless one was logged within the interval; True if logged."""
        now = self._clock()
        if now < self._next:
            self._suppressed += 1
            return False
        self._next = now + self._interval
        suppressed, self._suppressed = self._suppressed, 0
        log.warning(self._event, suppressed=suppressed, **context)
        return True
