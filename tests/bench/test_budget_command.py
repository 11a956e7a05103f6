"""`python -m bench budget`: a short real run with a backlog under a small budget."""

from __future__ import annotations

import pytest

from tests.bench.bench_run import SMOKE_SECONDS, SMOKE_TEST_SECONDS, require_redis_server, run_bench


@pytest.mark.timeout(SMOKE_TEST_SECONDS)
def test_short_run_reports_429s_and_use_and_ends_with_ratio() -> None:
    """20 jobs at 10/s against 10 requests per 2 s: a backlog, measured, the ratio last."""
    require_redis_server()
    lines = run_bench(
        "budget",
        *("--jobs", "20", "--rate", "10", "--failure-rate", "0.5", "--min-retries", "5"),
        *("--limit", "10", "--window", "2", "--margin", "0.1"),
        timeout=SMOKE_SECONDS,
    )
    assert any(line.startswith("goal zero 429s: ") for line in lines)
    assert any(line.startswith("backlog: ") for line in lines)
