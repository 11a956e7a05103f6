"""When a failed notification is tried again: exponential backoff with jitter, about a day
in all with the defaults (16 attempts: 5 s, 10 s, 20 s … doubling up to 6 h)."""

from __future__ import annotations

import random
from dataclasses import dataclass

JITTER = 0.25  # each wait is drawn from ±25 % of its nominal value, so retries do not herd


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int
    base_seconds: float
    max_delay_seconds: float

    def nominal_delay(self, attempts_made: int) -> float:
        """The wait after `attempts_made` failed tries, before jitter."""
        exponent = min(attempts_made - 1, 64)
        return min(self.max_delay_seconds, self.base_seconds * 2.0**exponent)

    def next_delay(
        self, attempts_made: int, *, flagged: bool, rng: random.Random | None = None
    ) -> float | None:
        """Seconds until the next try, or None: dead-letter it (the last attempt is spent,
        or the endpoint has been failing so long that it gets one try per notification)."""
        if flagged or attempts_made >= self.max_attempts:
            return None
        draw = (rng or random).uniform(1 - JITTER, 1 + JITTER)
        return self.nominal_delay(attempts_made) * draw
