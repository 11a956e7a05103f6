"""Latency percentiles (nearest rank) and the lines that print them."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from bench.errors import BenchError


def percentile(values: Sequence[float], fraction: float) -> float:
    """The nearest-rank percentile: the smallest value with at least `fraction` of all at or
    below it (so p99 of 600 values is the 594th smallest, a value that was really measured)."""
    if not values:
        raise BenchError("no values to take a percentile of")
    if not 0 < fraction <= 1:
        raise BenchError("fraction must be in (0, 1]")
    ordered = sorted(values)
    rank = math.ceil(fraction * len(ordered))
    return ordered[rank - 1]


@dataclass(frozen=True, slots=True)
class LatencySummary:
    """Percentiles of a set of latencies, in seconds."""

    count: int
    p50: float
    p90: float
    p99: float
    max: float

    @classmethod
    def of(cls, values: Sequence[float]) -> LatencySummary:
        return cls(
            count=len(values),
            p50=percentile(values, 0.50),
            p90=percentile(values, 0.90),
            p99=percentile(values, 0.99),
            max=max(values),
        )


def format_latency(label: str, summary: LatencySummary) -> str:
    """`label: p50 12.3 ms  p90 … p99 … max …  (n=600)`."""
    return (
        f"{label}: p50 {summary.p50 * 1000:.1f} ms  p90 {summary.p90 * 1000:.1f} ms"
        f"  p99 {summary.p99 * 1000:.1f} ms  max {summary.max * 1000:.1f} ms  (n={summary.count})"
    )
