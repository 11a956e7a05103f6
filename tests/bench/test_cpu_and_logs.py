"""CPU figures from /proc text, and errors in the services' JSON logs."""

from __future__ import annotations

import pytest

from bench.cpu import MachineCpu, busy_share, parse_machine_stat, parse_process_ticks
from bench.errors import BenchError
from bench.logs import check_errors, error_lines

PROC_STAT = """\
cpu  100 5 50 800 40 3 2 0 0 0
cpu0 50 2 25 400 20 1 1 0 0 0
intr 12345
"""


class TestMachineCpu:
    def test_busy_excludes_idle_and_iowait(self) -> None:
        """user+nice+system+irq+softirq+steal are busy; idle and iowait are not."""
        assert parse_machine_stat(PROC_STAT) == MachineCpu(busy=160, total=1000)

    def test_no_cpu_line_is_an_error(self) -> None:
        """A stat file without the summary line cannot be read."""
        with pytest.raises(BenchError):
            parse_machine_stat("intr 1\n")

    def test_share_between_readings(self) -> None:
        """60 busy ticks out of 100: 60%."""
        assert busy_share(MachineCpu(100, 1000), MachineCpu(160, 1100)) == pytest.approx(0.6)


class TestProcessTicks:
    def test_user_plus_system(self) -> None:
        """utime and stime, found after a command name holding spaces and parentheses."""
        stat = "42 (python (x) y) S 1 42 42 0 -1 4194560 100 0 0 0 250 30 0 0 20 0 3"
        assert parse_process_ticks(stat) == 280


class TestLogErrors:
    def test_errors_and_raw_lines(self) -> None:
        """Error-level JSON lines and non-JSON lines are errors; info and warnings are not."""
        text = "\n".join(
            [
                '{"event": "ok", "level": "info"}',
                '{"event": "slow", "level": "warning"}',
                '{"event": "boom", "level": "error"}',
                "Traceback (most recent call last):",
                "",
            ]
        )
        assert error_lines(text) == [
            '{"event": "boom", "level": "error"}',
            "Traceback (most recent call last):",
        ]

    def test_check_names_the_first(self) -> None:
        """The check fails and quotes the first error."""
        check = check_errors("worker log", '{"event": "boom", "level": "error"}')
        assert not check.passed
        assert "boom" in check.detail
        assert check_errors("worker log", "").passed
