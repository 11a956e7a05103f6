"""`python -m bench memory`: a short real run with a smaller file."""

from __future__ import annotations

import pytest

from tests.bench.bench_run import require_redis_server, run_bench


@pytest.mark.timeout(90)
def test_short_run_compares_peak_with_idle_and_ends_with_ratio() -> None:
    """A 20 MB download: idle and peak RSS printed, the job ready, the ratio last."""
    require_redis_server()
    lines = run_bench("memory", "--size-mb", "20", "--idle", "0.5", timeout=80)
    assert any(line.startswith("idle RSS: ") for line in lines)
    assert any(line.startswith("peak RSS: ") for line in lines)
