"""`python -m bench startup`: its figures' lines, and a short real run."""

from __future__ import annotations

import pytest

from bench.startup import GOAL_SECONDS, Timing, summary_lines
from tests.bench.bench_run import SMOKE_SECONDS, SMOKE_TEST_SECONDS, run_bench


@pytest.mark.timeout(SMOKE_TEST_SECONDS)
def test_short_run_prints_each_command_and_the_ratio() -> None:
    """One run of each: the checks pass, each command has its line, the ratio is last."""
    lines = run_bench("startup", "--runs", "1", timeout=SMOKE_SECONDS)
    for command in ("--help", "jobs --help", "jobs list", "events list"):
        assert any(line.startswith(f"voicehook {command}: ") for line in lines), lines
    assert any(line.startswith("baseline `python -c pass`: ") for line in lines)


class TestSummaryLines:
    def test_ratio_is_the_slowest_cpu_over_the_baseline(self) -> None:
        """CPU 0.4 s against a bare 0.02 s: ratio 20; each line says where it stands."""
        medians = {"--help": Timing(wall=0.2, cpu=0.1), "jobs list": Timing(wall=0.5, cpu=0.4)}
        lines = summary_lines(medians, Timing(wall=0.05, cpu=0.02))
        assert lines[-1] == "ratio=20.000"
        assert "within the 300 ms goal" in lines[1]
        assert "over the 300 ms goal" in lines[2]
        assert GOAL_SECONDS == 0.3
