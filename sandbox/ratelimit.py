"""The per-workspace request budget: a sliding-window log.

A request at time `t` is served when fewer than `limit` requests were served in the window
`(t - window, t]`; so every span of `window` seconds holds at most `limit` served requests.
That is stricter than a fixed window (which allows up to 2 x limit across a boundary), so a
client that never gets a 429 here never gets one from a fixed-window server either. Rejected
requests do not enter the log.
"""

from __future__ import annotations

import math
from collections import deque

from sandbox.errors import InvalidLimit


class SlidingWindowLimiter:
    """At most `limit` admissions per key in any `window`-second span."""

    def __init__(self, limit: int, window: float) -> None:
        if limit < 1 or window <= 0:
            raise InvalidLimit("a limiter needs a positive limit and window")
        self.limit = limit
        self.window = window
        self._served: dict[str, deque[float]] = {}

    def acquire(self, key: str, now: float) -> bool:
        """Admit one request for `key` at `now` if the window has room; record it if so."""
        log = self._served.setdefault(key, deque())
        horizon = now - self.window
        while log and log[0] <= horizon:
            log.popleft()
        if len(log) >= self.limit:
            return False
        log.append(now)
        return True

    def in_window(self, key: str, now: float) -> int:
        """How many requests of `key` were served in the window ending at `now`."""
        horizon = now - self.window
        return sum(1 for served in self._served.get(key, ()) if served > horizon)

    def retry_after(self) -> int:
        """The `retryAfter` the contract answers with: the window length, in whole seconds."""
        return max(1, math.ceil(self.window))

    def reset(self) -> None:
        self._served.clear()
