"""Nearest-rank percentiles and the latency line."""

from __future__ import annotations

import pytest

from bench.errors import BenchError
from bench.percentiles import LatencySummary, format_latency, percentile


class TestPercentile:
    def test_nearest_rank_is_a_measured_value(self) -> None:
        """p99 of 1..100 is 99 and p50 is 50: values that were measured, not interpolated."""
        values = [float(n) for n in range(100, 0, -1)]
        assert percentile(values, 0.99) == 99.0
        assert percentile(values, 0.50) == 50.0
        assert percentile(values, 1.0) == 100.0

    def test_small_sets_round_the_rank_up(self) -> None:
        """With 10 values, p99 is the largest and p90 the ninth."""
        values = [float(n) for n in range(1, 11)]
        assert percentile(values, 0.99) == 10.0
        assert percentile(values, 0.90) == 9.0

    def test_empty_is_an_error(self) -> None:
        """No values: no percentile, and a bench error that says so."""
        with pytest.raises(BenchError):
            percentile([], 0.5)

    def test_fraction_out_of_range_is_refused(self) -> None:
        """Fractions are in (0, 1]."""
        with pytest.raises(BenchError, match="fraction"):
            percentile([1.0], 0.0)


class TestLatencySummary:
    def test_summary_of_values(self) -> None:
        """Count, p50, p90, p99 and max of the values."""
        summary = LatencySummary.of([0.001 * n for n in range(1, 201)])
        assert summary.count == 200
        assert summary.p50 == pytest.approx(0.100)
        assert summary.p90 == pytest.approx(0.180)
        assert summary.p99 == pytest.approx(0.198)
        assert summary.max == pytest.approx(0.200)

    def test_line_in_milliseconds(self) -> None:
        """The printed line gives milliseconds and the count."""
        line = format_latency("total", LatencySummary(10, 0.0125, 0.02, 0.5, 0.75))
        assert line == "total: p50 12.5 ms  p90 20.0 ms  p99 500.0 ms  max 750.0 ms  (n=10)"
