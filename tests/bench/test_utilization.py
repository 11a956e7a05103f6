"""Budget use while a backlog exists, from sampled counters."""

from __future__ import annotations

import pytest

from bench.errors import BenchError
from bench.utilization import Sample, backlog_stretches, utilization


def samples(
    per_second: float, backlog: list[int], step: float = 0.5, limited: int = 0
) -> list[Sample]:
    """Samples every `step` seconds of a counter growing at `per_second`."""
    return [
        Sample(at=i * step, served=round(i * step * per_second), rate_limited=limited, backlog=b)
        for i, b in enumerate(backlog)
    ]


class TestBacklogStretches:
    def test_runs_of_samples_with_a_backlog(self) -> None:
        """Consecutive non-zero backlogs form one stretch, up to the end."""
        found = backlog_stretches(samples(1, [0, 3, 4, 0, 0, 1, 2]))
        assert found == [(1, 2), (5, 6)]

    def test_no_backlog_no_stretch(self) -> None:
        """An idle run has none."""
        assert backlog_stretches(samples(1, [0, 0])) == []


class TestUtilization:
    def test_full_use(self) -> None:
        """10 a second against 60 per 6 s, throughout a backlog: 1.0."""
        use = utilization(samples(10, [5] * 41), limit=60, window_seconds=6)
        assert use.ratio == pytest.approx(1.0)
        assert use.backlog_seconds == pytest.approx(20.0)
        assert use.window_min == pytest.approx(1.0)

    def test_half_use(self) -> None:
        """5 a second against 60 per 6 s: 0.5."""
        use = utilization(samples(5, [5] * 41), limit=60, window_seconds=6)
        assert use.ratio == pytest.approx(0.5)
        assert use.window_median == pytest.approx(0.5)

    def test_only_time_with_a_backlog_counts(self) -> None:
        """Idle time around the backlog does not lower the figure."""
        backlog = [0] * 10 + [7] * 21 + [0] * 10
        use = utilization(samples(10, backlog), limit=60, window_seconds=6)
        assert use.backlog_seconds == pytest.approx(10.0)
        assert use.ratio == pytest.approx(1.0)

    def test_stretches_shorter_than_a_window_are_left_out(self) -> None:
        """A 2 s backlog says more about the window before it than about the limiter."""
        backlog = [3] * 5 + [0] + [3] * 21
        use = utilization(samples(10, backlog), limit=60, window_seconds=6)
        assert use.backlog_seconds == pytest.approx(10.0)

    def test_worst_window(self) -> None:
        """A stall inside the backlog shows in the least-used window."""
        served = [0, 10, 20, 30, 30, 30, 30, 40, 50, 60, 70, 80, 90]
        run = [
            Sample(at=float(i), served=s, rate_limited=0, backlog=9) for i, s in enumerate(served)
        ]
        use = utilization(run, limit=60, window_seconds=6)
        assert use.window_min == pytest.approx(30 / 60)
        assert use.ratio == pytest.approx(90 / 120)

    def test_nothing_to_measure_is_an_error(self) -> None:
        """Without a backlog lasting a window, there is no figure to give."""
        with pytest.raises(BenchError, match="no backlog"):
            utilization(samples(10, [0, 1, 1, 0]), limit=60, window_seconds=6)
