"""A process's memory from `/proc/<pid>/status`, and what a download added to it: pure."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from bench.errors import BenchError

BYTES_PER_KIB = 1024
BYTES_PER_MB = 1_000_000


@dataclass(frozen=True, slots=True)
class ProcessMemory:
    rss_kib: int  # VmRSS: resident now
    peak_kib: int  # VmHWM: the most resident since start (or since the peak was reset)


@dataclass(frozen=True, slots=True)
class MemoryGrowth:
    idle_kib: int  # median of the idle samples
    peak_kib: int  # the most seen while downloading: sampled, or the kernel's peak
    samples: int  # taken while downloading

    @property
    def delta_kib(self) -> int:
        return self.peak_kib - self.idle_kib


def parse_status(text: str) -> ProcessMemory:
    """VmRSS and VmHWM (kB, which the kernel means as KiB) from a status file's text."""
    fields: dict[str, int] = {}
    for line in text.splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            number, _, unit = value.strip().partition(" ")
            if unit.strip() != "kB":
                raise BenchError(f"unexpected unit in {line!r}")
            fields[name] = int(number)
    if "VmRSS" not in fields or "VmHWM" not in fields:
        raise BenchError("no VmRSS/VmHWM in the status (a kernel thread, or not Linux?)")
    return ProcessMemory(rss_kib=fields["VmRSS"], peak_kib=fields["VmHWM"])


def growth(idle: Sequence[int], during: Sequence[int], kernel_peak: int | None) -> MemoryGrowth:
    """Idle is the median of the idle samples; the peak the highest sample during the
    download, or the kernel's own peak (VmHWM reset just before) when it is higher."""
    if not idle or not during:
        raise BenchError("no memory samples: the process was not seen idle and downloading")
    peak = max(during)
    if kernel_peak is not None:
        peak = max(peak, kernel_peak)
    return MemoryGrowth(idle_kib=round(statistics.median(idle)), peak_kib=peak, samples=len(during))


def megabytes(kib: int | float) -> float:
    """The kernel's KiB as MB (10^6 bytes), the unit of the goal and of the file's size."""
    return kib * BYTES_PER_KIB / BYTES_PER_MB
