"""Driving wrk with the bench's Lua script, and measuring what wrk itself costs."""

from __future__ import annotations

import resource
import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from bench.errors import BenchError, WrkMissing
from bench.report import WrkReport, parse_wrk_report

LUA_SCRIPT = Path(__file__).with_name("ingest.lua")
WRK_TIMEOUT = "10s"  # slow answers are measured as latency, not dropped as timeouts

CpuProbe = Callable[[], float]  # CPU seconds a process has used so far


class BodyMode(StrEnum):
    """What a wrk thread does when its bodies run out (see ingest.lua)."""

    ONCE = "once"  # stop: every body is sent at most once
    CYCLE = "cycle"  # start over: only for the stateless baseline


@dataclass(frozen=True, slots=True)
class LoadShape:
    threads: int
    connections: int


@dataclass(frozen=True, slots=True)
class WrkRun:
    report: WrkReport
    wall_seconds: float
    wrk_cpu_seconds: float  # wrk's own user + system time
    server_cpu_seconds: float


def find_wrk() -> str:
    """wrk's path, or WrkMissing telling how to install it."""
    found = shutil.which("wrk")
    if found is None:
        raise WrkMissing(
            "wrk is not installed; `python -m bench` needs it as its load generator. "
            "Install it with `apt-get install wrk` (Debian/Ubuntu) or `brew install wrk`."
        )
    return found


def wrk_command(
    wrk: str, url: str, *, bodies: Path, mode: BodyMode, shape: LoadShape, seconds: int
) -> list[str]:
    return [
        wrk,
        f"--threads={shape.threads}",
        f"--connections={shape.connections}",
        f"--duration={seconds}s",
        f"--timeout={WRK_TIMEOUT}",
        f"--script={LUA_SCRIPT}",
        url,
        "--",
        str(bodies),
        mode.value,
    ]


def run_wrk(command: list[str], server_cpu: CpuProbe) -> WrkRun:
    """Run wrk to completion and read its report; BenchError if wrk itself failed."""
    before_children = resource.getrusage(resource.RUSAGE_CHILDREN)
    before_server = server_cpu()
    started = time.monotonic()
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    wall = time.monotonic() - started
    server_seconds = server_cpu() - before_server
    after_children = resource.getrusage(resource.RUSAGE_CHILDREN)
    if completed.returncode != 0:
        raise BenchError(
            f"wrk exited with {completed.returncode}:\n{completed.stdout}{completed.stderr}"
        )
    wrk_seconds = (after_children.ru_utime - before_children.ru_utime) + (
        after_children.ru_stime - before_children.ru_stime
    )
    return WrkRun(parse_wrk_report(completed.stdout), wall, wrk_seconds, server_seconds)
