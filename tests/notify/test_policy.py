"""The retry schedule of notifications: exponential, jittered, about a day, then dead."""

from __future__ import annotations

import random

from processors.notify_policy import JITTER, RetryPolicy

DEFAULTS = RetryPolicy(max_attempts=16, base_seconds=5.0, max_delay_seconds=6 * 3600.0)


class TestRetryPolicy:
    def test_waits_double_up_to_the_cap(self) -> None:
        """5 s, 10 s, 20 s … and never more than the cap."""
        waits = [DEFAULTS.nominal_delay(n) for n in range(1, 16)]
        assert waits[:4] == [5.0, 10.0, 20.0, 40.0]
        assert max(waits) == 6 * 3600.0
        assert waits == sorted(waits)

    def test_the_defaults_retry_for_about_a_day(self) -> None:
        """The whole schedule spans between 20 and 28 hours."""
        total = sum(DEFAULTS.nominal_delay(n) for n in range(1, DEFAULTS.max_attempts))
        assert 20 * 3600 <= total <= 28 * 3600

    def test_jitter_stays_within_its_band(self) -> None:
        """Each drawn wait lies within ±25 % of its nominal value, and they differ."""
        rng = random.Random(7)
        draws = [DEFAULTS.next_delay(3, flagged=False, rng=rng) for _ in range(200)]
        nominal = DEFAULTS.nominal_delay(3)
        assert all(
            d is not None and (1 - JITTER) * nominal <= d <= (1 + JITTER) * nominal for d in draws
        )
        assert len(set(draws)) > 100

    def test_the_last_attempt_and_a_flagged_endpoint_dead_letter(self) -> None:
        """No wait after the last attempt, nor for an endpoint flagged as failing."""
        assert DEFAULTS.next_delay(16, flagged=False) is None
        assert DEFAULTS.next_delay(1, flagged=True) is None
        assert DEFAULTS.next_delay(15, flagged=False) is not None
