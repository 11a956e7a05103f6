"""`python -m bench dashboard`: a short real run on SQLite (and PostgreSQL when configured)."""

from __future__ import annotations

import os

import pytest

from tests.bench.bench_run import SMOKE_SECONDS, SMOKE_TEST_SECONDS, run_bench


@pytest.mark.timeout(SMOKE_TEST_SECONDS)
def test_short_run_prints_each_query_and_the_ratio() -> None:
    """A small fill: the count checks pass, each query has its line, the ratio is last."""
    lines = run_bench("dashboard", "--events", "2000", "--runs", "3", timeout=SMOKE_SECONDS)
    kinds = ["sqlite"] + (["postgresql"] if os.environ.get("TEST_DATABASE_URL") else [])
    for kind in kinds:
        assert f"check {kind} counts: ok" in "\n".join(lines), lines
    for query in ("baseline SELECT 1", "events by status", "deliveries per minute"):
        assert sum(line.strip().startswith(query) for line in lines) == len(kinds), lines
    assert float(lines[-1].removeprefix("ratio=")) > 0
