"""`python -m bench e2e`: a short real run through every process."""

from __future__ import annotations

import pytest

from tests.bench.bench_run import require_redis_server, run_bench


@pytest.mark.timeout(90)
def test_short_run_measures_every_stage_and_ends_with_ratio() -> None:
    """Jobs at 10/s for 3 s: all ready, every stage measured, the ratio last."""
    require_redis_server()
    lines = run_bench("e2e", "--rate", "10", "--duration", "3s", "--warmup", "1s", timeout=80)
    assert any(line.startswith("webhook POST → job ready, audio on disk: p50 ") for line in lines)
    assert any(line.startswith("POST → a worker claims the event: ") for line in lines)
    assert any(line.startswith("goal p99 ≤ 1000 ms: ") for line in lines)
