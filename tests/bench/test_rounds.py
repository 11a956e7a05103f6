"""Which round of the ingest bench counts: the median of the per-round ratios."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bench.errors import BenchError
from bench.ingest import Round, median_round
from bench.loadgen import WrkRun
from bench.report import parse_wrk_report
from tests.bench.test_report import WRK_OUTPUT

TEN_SECONDS = parse_wrk_report(WRK_OUTPUT)


def run(requests_per_second: int) -> WrkRun:
    report = replace(TEN_SECONDS, requests=requests_per_second * 10, duration_us=10_000_000)
    return WrkRun(report, wall_seconds=10.0, wrk_cpu_seconds=2.5, server_cpu_seconds=9.9)


def round_of(receiver: int, bare: int) -> Round:
    return Round(bare=run(bare), receiver=run(receiver))


def test_a_round_ratio_is_its_receiver_rate_over_its_own_bare_rate() -> None:
    assert round_of(receiver=5_000, bare=20_000).ratio == pytest.approx(0.25)


def test_the_median_of_an_odd_count_is_the_middle_ratio_not_the_middle_rate() -> None:
    # The fastest receiver run sits next to the fastest bare run: its round is not the best.
    rounds = [round_of(12_000, 20_000), round_of(15_000, 30_000), round_of(9_000, 20_000)]
    assert median_round(rounds) is rounds[1]
    assert median_round(rounds).ratio == pytest.approx(0.5)


def test_the_median_of_an_even_count_is_the_lower_middle_round() -> None:
    rounds = [round_of(12_000, 20_000), round_of(8_000, 20_000)]
    assert median_round(rounds) is rounds[1]


def test_one_round_is_its_own_median() -> None:
    only = round_of(10_000, 20_000)
    assert median_round([only]) is only


def test_no_round_is_an_error() -> None:
    with pytest.raises(BenchError, match="no round"):
        median_round([])
