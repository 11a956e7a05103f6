"""`python -m bench ingest` end to end: a short real run through `python -m bench`."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.services import ROOT

BENCH = [sys.executable, "-m", "bench", "ingest"]


@pytest.mark.timeout(90)
@pytest.mark.usefixtures("wrk")
def test_short_run_verifies_and_ends_with_the_median_rounds_ratio() -> None:
    """Both servers measured in alternating rounds, every check passed over every receiver
    run, and the last line is the ratio of the round named the median."""
    env = {key: value for key, value in os.environ.items() if key != "REDIS_URL"}
    short = ["--duration", "2s", "--warmup", "1s", "--rounds", "2", "--connections", "4"]
    completed = subprocess.run(
        [*BENCH, *short, "--embedded-redis"],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=80,
        check=False,
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
    completed = subprocess.run(
        [*BENCH, "--duration", "1s"],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=60,
        check=False,
    )
    assert completed.returncode != 0
    assert "apt-get install wrk" in completed.stderr
