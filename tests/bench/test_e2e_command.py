"""`python -m bench e2e`: a short real run through every process."""

from __future__ import annotations

import shutil

import pytest

from tests.bench.bench_run import SMOKE_SECONDS, SMOKE_TEST_SECONDS, require_redis_server, run_bench
from tests.services import missing_service


@pytest.mark.timeout(SMOKE_TEST_SECONDS)
def test_short_run_measures_every_stage_against_its_floor_and_ends_with_ratio() -> None:
    """Jobs at 10/s for 2 s, no warm-up, quiet then under stress-ng: all ready, every stage
    measured, each percentile set against the floor measured in the same run, the ratio last."""
    require_redis_server()
    if shutil.which("stress-ng") is None:
        missing_service("stress-ng (apt-get install stress-ng)")
    lines = run_bench(
        "e2e", "--rate", "10", "--duration", "2s", "--warmup", "0", timeout=SMOKE_SECONDS
    )
    assert any(line.startswith("webhook POST → job ready, audio on disk: p50 ") for line in lines)
    assert any(line.startswith("POST → a worker claims the event: ") for line in lines)
    for phase in ("quiet", "loaded"):
        assert any(line.startswith(f"== {phase} (load average ") for line in lines)
        assert any(line.startswith(f"{phase} p99: ") and "x the floor's" in line for line in lines)
    floors = [line for line in lines if line.startswith("floor: POST → file downloaded and ")]
    assert len(floors) == 2
    assert any(line.startswith("goal quiet p50 ≤ 3x the floor: ") for line in lines)
    assert any(line.startswith("goal loaded p99 ≤ 10x the floor: ") for line in lines)
