"""Processes as Linux's /proc shows them: children, command lines, memory."""

from __future__ import annotations

import os
from pathlib import Path

from bench.cpu import MachineCpu, parse_machine_stat, parse_process_ticks
from bench.rss import ProcessMemory, parse_status

PROC = Path("/proc")
RESET_PEAK = "5"  # written to clear_refs: the kernel resets VmHWM to the current RSS


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
