"""How much of the API budget was used while there was work waiting for it: pure functions.

The run is sampled every fraction of a second: the upstream's count of requests it served
(cumulative) and how many jobs were waiting for a submission slot (the backlog). Over each
stretch of consecutive samples with a backlog, at least one window long, the budget could
have served `limit * seconds / window` requests; utilization is what it did serve over that.
The limiter keeps its window `margin` longer than the upstream's, so the most it can reach is
window ÷ (window + margin).
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from bench.errors import BenchError


@dataclass(frozen=True, slots=True)
class Sample:
    at: float  # seconds, monotonic
    served: int  # requests the upstream served so far
    rate_limited: int  # 429s it answered so far
    backlog: int  # jobs waiting for a submission slot


@dataclass(frozen=True, slots=True)
class Utilization:
    backlog_seconds: float  # time covered by the stretches counted
    served: int  # requests served in them
    capacity: float  # requests the budget allowed in them
    window_min: float  # the least-used single window within them
    window_median: float

    @property
    def ratio(self) -> float:
        return self.served / self.capacity


def backlog_stretches(samples: Sequence[Sample]) -> list[tuple[int, int]]:
    """(first, last) indexes of each run of consecutive samples with a backlog."""
    stretches: list[tuple[int, int]] = []
    start: int | None = None
    for index, sample in enumerate(samples):
        if sample.backlog > 0 and start is None:
            start = index
        elif sample.backlog == 0 and start is not None:
            stretches.append((start, index - 1))
            start = None
    if start is not None:
        stretches.append((start, len(samples) - 1))
    return stretches


def utilization(samples: Sequence[Sample], limit: int, window_seconds: float) -> Utilization:
    """Budget use over the backlog stretches at least a window long (shorter ones say more
    about the window before them than about the limiter)."""
    served = 0
    seconds = 0.0
    windows: list[float] = []
    for first, last in backlog_stretches(samples):
        span = samples[last].at - samples[first].at
        if span < window_seconds:
            continue
        served += samples[last].served - samples[first].served
        seconds += span
        windows.extend(_window_uses(samples[first : last + 1], limit, window_seconds))
    if seconds == 0:
        raise BenchError(
            f"no backlog lasted a whole window ({window_seconds:g}s): nothing to measure;"
            " submit more jobs or faster"
        )
    return Utilization(
        backlog_seconds=seconds,
        served=served,
        capacity=limit * seconds / window_seconds,
        window_min=min(windows),
        window_median=statistics.median(windows),
    )


def _window_uses(stretch: Sequence[Sample], limit: int, window_seconds: float) -> list[float]:
    """Use of each window that starts at a sample and ends at the first sample a window on."""
    uses: list[float] = []
    end = 0
    for start, sample in enumerate(stretch):
        end = max(end, start)
        while end < len(stretch) and stretch[end].at - sample.at < window_seconds:
            end += 1
        if end == len(stretch):
            break
        span = stretch[end].at - sample.at
        uses.append((stretch[end].served - sample.served) / (limit * span / window_seconds))
    return uses
