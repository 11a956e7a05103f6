"""`python -m bench crash`: the crash drill at a small size (full size: see the README)."""

from __future__ import annotations

import os

import pytest

from tests.bench.bench_run import require_redis_server, run_bench


@pytest.mark.timeout(900)
def test_a_small_drill_settles_every_job_and_agrees_with_the_upstream() -> None:
    """Two SIGKILLs of the worker's tree over eight jobs, faults on, on PostgreSQL when
    TEST_DATABASE_URL names one: every check passes, and its figures are printed."""
    require_redis_server()
    database = ["--database", "postgresql"] if os.environ.get("TEST_DATABASE_URL") else []
    lines = run_bench("crash", "--jobs", "8", "--kills", "2", *database, timeout=880)
    print("\n".join(lines))
    assert any(line.startswith("check kills: ok") for line in lines)
    assert any(line.startswith("check credits spent == credits counted: ok") for line in lines)
    assert any(line.startswith("check every job settled: ok") for line in lines)
