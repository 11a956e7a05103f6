"""`python -m bench drain`: a short real run — a small backlog drained, against its ceiling."""

from __future__ import annotations

import os

import pytest

from tests.bench.bench_run import SMOKE_SECONDS, SMOKE_TEST_SECONDS, require_redis_server, run_bench


@pytest.mark.timeout(SMOKE_TEST_SECONDS)
def test_small_backlog_drains_and_reports_against_its_ceiling() -> None:
    """20 events (on PostgreSQL too when TEST_DATABASE_URL is set): each database's drain
    rate, its ceiling and the per-event percentiles are printed, every check passes (every
    event processed, no lock error in the worker log), and the ratio is last."""
    require_redis_server()
    databases = ["--database", "sqlite"]
    if os.environ.get("TEST_DATABASE_URL"):
        databases += ["--database", "postgresql"]
    lines = run_bench("drain", "--events", "20", *databases, timeout=SMOKE_SECONDS)
    kinds = databases[1::2]
    for kind in kinds:
        assert f"== {kind} ==" in lines
        assert any(f"{kind}: " in line and "events/s against a ceiling" in line for line in lines)
    assert sum(line.startswith("ceiling: 20 files downloaded") for line in lines) == len(kinds)
    assert any(line.startswith("per event, claim → settled: p50 ") for line in lines)
    assert any(line.startswith("check no database-lock errors: ok") for line in lines)
