"""The sliding-window limiter, as a pure object."""

from __future__ import annotations

import random

import pytest

from sandbox.errors import InvalidLimit
from sandbox.ratelimit import SlidingWindowLimiter


class TestSlidingWindowLimiter:
    def test_admits_up_to_the_limit_then_refuses(self) -> None:
        """Within one window the first `limit` requests pass and the next one does not."""
        limiter = SlidingWindowLimiter(limit=3, window=10)
        assert [limiter.acquire("ws", now) for now in (0, 1, 2, 3)] == [True, True, True, False]

    def test_room_returns_as_each_request_leaves_the_window(self) -> None:
        """A slot frees `window` seconds after the request that used it, not at a boundary."""
        limiter = SlidingWindowLimiter(limit=2, window=10)
        assert limiter.acquire("ws", 0)
        assert limiter.acquire("ws", 6)
        assert not limiter.acquire("ws", 9.99)
        assert limiter.acquire("ws", 10)
        assert not limiter.acquire("ws", 15.99)
        assert limiter.acquire("ws", 16)

    def test_no_window_length_span_ever_holds_more_than_the_limit(self) -> None:
        """Whatever the arrivals, every (t - window, t] holds at most `limit` served requests."""
        rng = random.Random(7)
        limiter = SlidingWindowLimiter(limit=5, window=2.0)
        now, served = 0.0, []
        for _ in range(2000):
            now += rng.expovariate(8)
            if limiter.acquire("ws", now):
                served.append(now)
        assert len(served) > 100
        for end in served:
            assert sum(1 for t in served if end - 2.0 < t <= end) <= 5

    def test_a_fixed_window_server_would_accept_what_it_admits(self) -> None:
        """Admitted requests never exceed the limit inside any fixed window either."""
        rng = random.Random(11)
        limiter = SlidingWindowLimiter(limit=4, window=1.0)
        now, served = 0.0, []
        for _ in range(500):
            now += rng.uniform(0, 0.2)
            if limiter.acquire("ws", now):
                served.append(now)
        for start in range(21):
            assert sum(1 for t in served if start <= t < start + 1) <= 4

    def test_keys_have_separate_budgets(self) -> None:
        """One workspace using its budget leaves another's untouched."""
        limiter = SlidingWindowLimiter(limit=1, window=60)
        assert limiter.acquire("a", 0)
        assert not limiter.acquire("a", 1)
        assert limiter.acquire("b", 1)

    def test_refused_requests_do_not_extend_the_wait(self) -> None:
        """Hammering while limited does not push the next free slot further out."""
        limiter = SlidingWindowLimiter(limit=1, window=10)
        assert limiter.acquire("ws", 0)
        for now in range(1, 10):
            assert not limiter.acquire("ws", now)
        assert limiter.acquire("ws", 10)

    def test_counts_the_requests_in_the_current_window(self) -> None:
        """`in_window` reports how much of the budget is in use right now."""
        limiter = SlidingWindowLimiter(limit=5, window=10)
        for now in (0, 1, 2):
            limiter.acquire("ws", now)
        assert limiter.in_window("ws", 5) == 3
        assert limiter.in_window("ws", 10.5) == 2
        assert limiter.in_window("other", 5) == 0

    @pytest.mark.parametrize(("window", "expected"), [(60, 60), (2, 2), (0.5, 1), (2.2, 3)])
    def test_retry_after_is_the_window_in_whole_seconds(self, window: float, expected: int) -> None:
        """The contract's `retryAfter` is the window length, rounded up to a whole second."""
        assert SlidingWindowLimiter(limit=1, window=window).retry_after() == expected

    def test_rejects_a_useless_configuration(self) -> None:
        """A zero limit or window is a configuration error, not a limiter refusing all."""
        with pytest.raises(InvalidLimit, match="positive"):
            SlidingWindowLimiter(limit=0, window=1)
        with pytest.raises(InvalidLimit, match="positive"):
            SlidingWindowLimiter(limit=1, window=0)
