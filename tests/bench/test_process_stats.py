"""Processes as /proc shows them: CPU and memory figures from its text, a live process tree."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from bench import process_stats
from bench.errors import BenchError
from bench.process_stats import (
    CpuWatch,
    MachineCpu,
    busy_share,
    growth,
    megabytes,
    parse_machine_stat,
    parse_process_ticks,
    parse_status,
)

PROC_STAT = """\
cpu  100 5 50 800 40 3 2 0 0 0
cpu0 50 2 25 400 20 1 1 0 0 0
intr 12345
"""

STATUS = """\
Name:\tpython
State:\tS (sleeping)
VmPeak:\t  400000 kB
VmHWM:\t   91234 kB
VmRSS:\t   80500 kB
Threads:\t5
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


class TestParseStatus:
    def test_resident_and_peak(self) -> None:
        """VmRSS and VmHWM, in KiB."""
        memory = parse_status(STATUS)
        assert (memory.rss_kib, memory.peak_kib) == (80500, 91234)

    def test_missing_fields_are_an_error(self) -> None:
        """A kernel thread's status has no VmRSS: a bench error, not a zero."""
        with pytest.raises(BenchError):
            parse_status("Name:\tkthreadd\nState:\tS\n")

    def test_reads_a_live_process(self) -> None:
        """This process's own status parses, with the peak at least the current size."""
        memory = process_stats.memory(os.getpid())
        assert memory is not None
        assert memory.peak_kib >= memory.rss_kib > 0


class TestGrowth:
    def test_peak_minus_median_idle(self) -> None:
        """Idle is the median (one outlier does not move it); peak the highest sample."""
        found = growth([100, 101, 500, 99, 100], [100, 150, 120], kernel_peak=None)
        assert (found.idle_kib, found.peak_kib, found.delta_kib) == (100, 150, 50)

    def test_kernel_peak_catches_what_samples_missed(self) -> None:
        """A higher VmHWM wins over the sampled maximum."""
        assert growth([100], [110], kernel_peak=180).peak_kib == 180

    def test_no_samples_is_an_error(self) -> None:
        """Without samples during the download there is nothing to compare."""
        with pytest.raises(BenchError):
            growth([100], [], kernel_peak=None)

    def test_megabytes(self) -> None:
        """KiB to MB of 10^6 bytes."""
        assert megabytes(48_828.125) == pytest.approx(50.0)


class TestLiveProcesses:
    def test_a_child_is_found_with_its_command_line(self) -> None:
        """A child of this process is among its children and descendants, with its argv;
        once it is gone its command line is empty."""
        marker = "process-stats-child"
        child = subprocess.Popen(
            [sys.executable, "-c", "print('up', flush=True); input()", marker],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        try:
            assert child.stdout is not None
            assert child.stdout.readline() == b"up\n"  # it runs: its argv is its own now
            assert child.pid in process_stats.children(os.getpid())
            assert child.pid in process_stats.descendants(os.getpid())
            assert process_stats.command_line(child.pid)[-1] == marker
            assert process_stats.cpu_seconds(child.pid) >= 0
        finally:
            child.communicate(b"\n", timeout=30)
        assert process_stats.command_line(child.pid) == []

    def test_cpu_watch_names_each_process_and_the_bench(self) -> None:
        """The line gives the machine's share and each watched process's, in CPUs."""
        line = CpuWatch({"self": os.getpid()}).line()
        assert line.startswith("cpu over ")
        assert " busy of " in line
        assert "self " in line
        assert "bench " in line
