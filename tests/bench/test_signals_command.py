"""`python -m bench signals`: a short real run prints both latencies and the ratio."""

from __future__ import annotations

import pytest

from tests.bench.bench_run import SMOKE_SECONDS, SMOKE_TEST_SECONDS, require_redis_server, run_bench


@pytest.mark.timeout(SMOKE_TEST_SECONDS)
def test_short_run_prints_both_and_the_ratio() -> None:
    """500 events, 3 reads: the fill line, the baseline's and the read's percentiles, ratio."""
    require_redis_server()
    lines = run_bench("signals", "--events", "500", "--reads", "3", timeout=SMOKE_SECONDS)
    assert lines[0] == "sqlite: 500 events, 100 jobs stored in " + lines[0].rsplit(" ", 1)[1]
    assert any(line.startswith("baseline (SELECT 1 + PING): p50 ") for line in lines)
    assert any(line.startswith("snapshot read: p50 ") for line in lines)
    assert float(lines[-1].removeprefix("ratio=")) > 0
