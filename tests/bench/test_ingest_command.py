"""`python -m bench ingest` end to end: a short real run through `python -m bench`."""

from __future__ import annotations

import os
import sys

import pytest

from tests.bench.bench_run import BENCH, SMOKE_SECONDS, SMOKE_TEST_SECONDS, run_in_session

INGEST = [*BENCH, "ingest"]


@pytest.mark.timeout(SMOKE_TEST_SECONDS)
@pytest.mark.usefixtures("wrk")
def test_short_run_verifies_and_ends_with_the_median_rounds_ratio() -> None:
    """Both servers measured in alternating rounds, every check passed over every receiver
    run, and the last line is the ratio of the round named the median."""
    env = {key: value for key, value in os.environ.items() if key != "REDIS_URL"}
    short = ["--duration", "2s", "--warmup", "1s", "--rounds", "2", "--connections", "4"]
    completed = run_in_session(
        [*INGEST, *short, "--embedded-redis"], timeout=SMOKE_SECONDS, env=env
    )
    output = completed.stdout
    assert completed.returncode == 0, output + completed.stderr
    lines = output.strip().splitlines()
    assert lines[-1].startswith("ratio=")
    ratio = float(lines[-1].removeprefix("ratio="))
    runs = [line.split(":")[0] for line in lines if " req/s  p50 " in line]
    assert runs == [
        "bare warmup",
        "receiver warmup",
        "bare round 1",
        "receiver round 1",
        "bare round 2",
        "receiver round 2",
    ]
    round_ratios = [float(line.split()[-1]) for line in lines if line.startswith("round ")]
    assert len(round_ratios) == 2
    assert ratio == min(round_ratios) > 0  # of two, the lower middle one
    assert lines[-2].startswith("median of 2 rounds: round ")
    checks = [line for line in lines if line.startswith("check ")]
    assert len(checks) == 6
    assert all(": ok - " in line for line in checks), output


def test_missing_wrk_is_a_clear_error() -> None:
    """Without wrk on PATH the command fails and says how to install it."""
    env = {**os.environ, "PATH": os.path.dirname(sys.executable)}
    completed = run_in_session([*INGEST, "--duration", "1s"], timeout=60, env=env)
    assert completed.returncode != 0
    assert "apt-get install wrk" in completed.stderr
