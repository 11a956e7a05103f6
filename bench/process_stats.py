"""What the benches measure of processes, as Linux's /proc shows them: their tree and command
lines, their CPU time and the machine's, their resident memory and what a download added.

The parsers of /proc's text are pure functions over strings; the readers below them only
open the files; `CpuWatch` reports where the CPU went between two readings.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.errors import BenchError

PROC = Path("/proc")
RESET_PEAK = "5"  # written to clear_refs: the kernel resets VmHWM to the current RSS
BYTES_PER_KIB = 1024
BYTES_PER_MB = 1_000_000


# CPU: pure


@dataclass(frozen=True, slots=True)
class MachineCpu:
    """Cumulative ticks of all CPUs, from the `cpu` line of /proc/stat."""

    busy: int
    total: int


def parse_machine_stat(text: str) -> MachineCpu:
    """The `cpu` line: user nice system idle iowait irq softirq steal …; idle and iowait
    are not busy, guest time is already counted in user."""
    for line in text.splitlines():
        parts = line.split()
        if parts and parts[0] == "cpu":
            values = [int(value) for value in parts[1:9]]
            idle = values[3] + values[4]
            total = sum(values)
            return MachineCpu(busy=total - idle, total=total)
    raise BenchError("no `cpu` line in /proc/stat")


def parse_process_ticks(text: str) -> int:
    """utime + stime of a /proc/<pid>/stat line (fields 14 and 15, after the command name,
    which may itself hold spaces and parentheses)."""
    after_name = text.rsplit(")", 1)[1].split()
    return int(after_name[11]) + int(after_name[12])


def busy_share(before: MachineCpu, after: MachineCpu) -> float:
    """The share of all CPUs' time that was busy between two readings."""
    total = after.total - before.total
    return (after.busy - before.busy) / total if total > 0 else 0.0


# Memory: pure


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


# Readers of /proc


def children(pid: int) -> list[int]:
    found: list[int] = []
    for task in (PROC / str(pid) / "task").glob("*/children"):
        try:
            found.extend(int(child) for child in task.read_text().split())
        except OSError:
            continue
    return found


def descendants(pid: int) -> list[int]:
    """Every process below `pid`, parents before their children."""
    found: list[int] = []
    for child in children(pid):
        found.append(child)
        found.extend(descendants(child))
    return found


def command_line(pid: int) -> list[str]:
    """The process's argv, or [] if it is gone."""
    try:
        raw = (PROC / str(pid) / "cmdline").read_bytes()
    except OSError:
        return []
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


def memory(pid: int) -> ProcessMemory | None:
    """Its resident and peak memory, or None if it is gone."""
    try:
        return parse_status((PROC / str(pid) / "status").read_text())
    except OSError:
        return None


def reset_peak(pid: int) -> bool:
    """Make the kernel forget the process's peak RSS so far; False where that is not allowed."""
    try:
        (PROC / str(pid) / "clear_refs").write_text(RESET_PEAK)
    except OSError:
        return False
    return True


def machine_cpu() -> MachineCpu:
    return parse_machine_stat((PROC / "stat").read_text())


def cpu_seconds(pid: int) -> float:
    """User + system CPU of the process and every process below it, so far."""
    ticks = 0
    for each in [pid, *descendants(pid)]:
        try:
            ticks += parse_process_ticks((PROC / str(each) / "stat").read_text())
        except OSError:
            continue
    return ticks / os.sysconf("SC_CLK_TCK")


class CpuWatch:
    """Readings at creation; `line()` gives what was used since, in CPUs (1.0 = one core):
    the machine's busy share, each named process's (with its children), and the bench's."""

    def __init__(self, processes: Mapping[str, int]) -> None:
        self._processes = dict(processes)
        self._wall = time.monotonic()
        self._machine = machine_cpu()
        self._own = time.process_time()
        self._used = {name: cpu_seconds(pid) for name, pid in self._processes.items()}

    def line(self) -> str:
        wall = time.monotonic() - self._wall
        machine = busy_share(self._machine, machine_cpu())
        parts = [
            f"{name} {(cpu_seconds(pid) - self._used[name]) / wall:.2f}"
            for name, pid in self._processes.items()
        ]
        parts.append(f"bench {(time.process_time() - self._own) / wall:.2f}")
        return (
            f"cpu over {wall:.0f}s: machine {machine:.0%} busy of {os.cpu_count()} CPUs;"
            f" in CPUs: {', '.join(parts)}"
        )
