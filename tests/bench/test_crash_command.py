"""`voicehook bench crash`: the crash drill at a small size (full size: see the README)."""

from __future__ import annotations

import pytest

from tests.bench.bench_run import require_redis_server, run_bench


@pytest.mark.timeout(600)
def test_a_small_drill_settles_every_job_and_agrees_with_the_upstream() -> None:
    """Three SIGKILLs over twelve jobs, faults on: every check passes, figures printed."""
    require_redis_server()
    lines = run_bench("crash", "--jobs", "12", "--kills", "3", timeout=580)
    print("\n".join(lines))
    assert any(line.startswith("check kills: ok") for line in lines)
    assert any(line.startswith("check credits spent == credits counted: ok") for line in lines)
