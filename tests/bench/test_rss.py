"""Memory from /proc status text, and what a download added to it."""

from __future__ import annotations

import os

import pytest

from bench import procfs
from bench.errors import BenchError
from bench.memory import WAV_BYTES_PER_SECOND, duration_for
from bench.rss import growth, megabytes, parse_status

STATUS = """\
Name:\tpython
State:\tS (sleeping)
VmPeak:\t  400000 kB
VmHWM:\t   91234 kB
VmRSS:\t   80500 kB
Threads:\t5
"""


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
        memory = procfs.memory(os.getpid())
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


class TestDurationFor:
    def test_wav_of_at_least_the_size(self) -> None:
        """200 MB of 16-bit mono 22.05 kHz is 4536 s (44,100 bytes a second)."""
        assert WAV_BYTES_PER_SECOND == 44_100
        assert duration_for(200) == 4536
        assert duration_for(200) * WAV_BYTES_PER_SECOND >= 200_000_000
