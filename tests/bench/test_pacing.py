"""Steady-rate calls and periodic sampling."""

from __future__ import annotations

import time

import pytest

from bench.pacing import Sampler, paced
from tests.services import wait_for


class FakeClock:
    """Time that moves only when slept, or when an action takes some."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


class TestPaced:
    def test_calls_on_schedule(self) -> None:
        """At 4 a second, call i starts at i/4 s."""
        clock = FakeClock()
        starts: list[float] = []
        run = paced(4, 5, lambda _: starts.append(clock()), clock=clock, sleep=clock.sleep)
        assert starts == [0.0, 0.25, 0.5, 0.75, 1.0]
        assert run.most_behind == 0.0

    def test_slow_calls_catch_up_instead_of_dropping_the_rate(self) -> None:
        """A call that overruns makes the next start at once, and the lag is reported."""
        clock = FakeClock()
        starts: list[float] = []

        def action(index: int) -> None:
            starts.append(clock())
            clock.now += 0.6 if index == 0 else 0.0

        run = paced(4, 4, action, clock=clock, sleep=clock.sleep)
        assert starts == [0.0, 0.6, 0.6, 0.75]
        assert run.most_behind == pytest.approx(0.35)
        assert run.rate == pytest.approx(4 / 0.75)


class TestSampler:
    def test_samples_until_stopped(self) -> None:
        """Samples are taken on a thread while the block runs, in order."""
        counter = iter(range(1_000_000))
        with Sampler(lambda: next(counter), 0.01) as sampler:
            wait_for(lambda: len(sampler.samples) >= 3, description="three samples were taken")
        assert len(sampler.samples) >= 3
        assert sampler.samples == sorted(sampler.samples)

    def test_an_error_while_sampling_surfaces(self) -> None:
        """A failing sample is raised when the block ends, not lost on the thread."""

        def broken() -> int:
            raise RuntimeError("boom")

        with pytest.raises(RuntimeError, match="boom"), Sampler(broken, 0.01):
            time.sleep(0.05)
