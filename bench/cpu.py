"""CPU time from /proc's `stat` files, and the share of the machine a run kept busy: pure."""

from __future__ import annotations

from dataclasses import dataclass

from bench.errors import BenchError


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
