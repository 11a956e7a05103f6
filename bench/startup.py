"""`python -m bench startup`: how long `voicehook` commands take to start and answer.

Each command runs `runs` times, alternating, in a fresh interpreter (`python -m voicehook
...`) from a temporary folder holding a migrated SQLite database, with no environment but
PATH, HOME and DATABASE_URL. The baseline, measured in the same run and the same way, is
the bare interpreter (`python -c pass`): what no command can start faster than. Printed:
each command's median wall time and CPU time (user + system, which a loaded machine
inflates far less than the wall time), the wall time's ratio to the baseline's, and the goal
(0.3 s for `--help` and simple reads, issue 13); the last line is
`ratio=<slowest median ÷ baseline>`, of CPU times. The checks are that every run exited 0,
and that `--help` loaded none of the service.
"""

from __future__ import annotations

import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.errors import BenchError
from bench.report import format_ratio
from bench.verify import Check

Echo = Callable[[str], None]

GOAL_SECONDS = 0.3
COMMANDS: tuple[tuple[str, ...], ...] = (
    ("--help",),
    ("jobs", "--help"),
    ("jobs", "list"),
    ("events", "list"),
    ("customers", "list"),
    ("notifications", "list"),
)
BASELINE = ("-c", "pass")
# Imported by a command that needs the database or the service; `--help` needs none of them.
SERVICE_MODULES = ("sqlalchemy", "receiver", "processors", "records", "sandbox", "dramatiq")
PROBE = (
    "import sys\n"
    "from voicehook.cli import app\n"
    "try:\n"
    "    app(['--help'], prog_name='voicehook')\n"
    "except SystemExit:\n"
    "    pass\n"
    "print(' '.join(sorted(sys.modules)), file=sys.stderr)\n"
)
RUN_TIMEOUT_SECONDS = 120.0


@dataclass(frozen=True)
class StartupOptions:
    runs: int = 10


@dataclass(frozen=True)
class Timing:
    """Median seconds of a program's runs: wall clock, and CPU (user + system)."""

    wall: float
    cpu: float


@dataclass(frozen=True)
class StartupResult:
    medians: dict[str, Timing]  # command line → its medians
    baseline: Timing
    checks: list[Check]

    @property
    def passed(self) -> bool:
        return all(check.passed for check in self.checks)


def median_seconds(samples: Sequence[float]) -> float:
    if not samples:
        raise BenchError("no samples")
    return statistics.median(samples)


def summary_lines(medians: dict[str, Timing], baseline: Timing) -> list[str]:
    """One line per command (medians, times the bare interpreter, the goal), then the ratio
    of the slowest command's CPU time to the bare interpreter's."""
    lines = [
        f"baseline `python -c pass`: {baseline.wall * 1000:.0f} ms wall, "
        f"{baseline.cpu * 1000:.0f} ms CPU (medians)"
    ]
    for command, timing in medians.items():
        verdict = "within" if timing.wall <= GOAL_SECONDS else "over"
        lines.append(
            f"voicehook {command}: {timing.wall * 1000:.0f} ms wall, "
            f"{timing.cpu * 1000:.0f} ms CPU (medians); {timing.cpu / baseline.cpu:.2f}x the "
            f"bare interpreter's CPU; wall {verdict} the {GOAL_SECONDS * 1000:.0f} ms goal"
        )
    lines.append(format_ratio(max(t.cpu for t in medians.values()) / baseline.cpu))
    return lines


def run_startup_bench(options: StartupOptions, echo: Echo) -> StartupResult:
    workdir = Path(tempfile.mkdtemp(prefix="voicehook-bench-startup-"))
    try:
        env = {
            "PATH": os.environ.get("PATH", ""),
            "HOME": str(workdir),
            "DATABASE_URL": f"sqlite:///{workdir / 'voicehook.db'}",
        }
        *_, code = timed(["-m", "voicehook", "db", "upgrade"], env, workdir)  # not measured
        if code != 0:
            raise BenchError(f"voicehook db upgrade exited {code}")
        programs = {"": BASELINE} | {" ".join(c): ("-m", "voicehook", *c) for c in COMMANDS}
        walls: dict[str, list[float]] = {name: [] for name in programs}
        cpus: dict[str, list[float]] = {name: [] for name in programs}
        failures: list[str] = []
        for _ in range(options.runs):
            for name, argv in programs.items():
                wall, cpu, code = timed(argv, env, workdir)
                walls[name].append(wall)
                cpus[name].append(cpu)
                if code != 0:
                    failures.append(f"{name or 'baseline'} exited {code}")
        loaded = help_imports(env, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    timings = {
        name: Timing(wall=median_seconds(walls[name]), cpu=median_seconds(cpus[name]))
        for name in walls
    }
    baseline = timings.pop("")
    medians = timings
    heavy = sorted(m for m in loaded if m.split(".")[0] in SERVICE_MODULES)
    checks = [
        Check("exits", not failures, "; ".join(failures) or "every run exited 0"),
        Check(
            "help-is-light",
            not heavy,
            f"--help loaded {', '.join(heavy[:5])}"
            if heavy
            else "--help loads none of the service",
        ),
    ]
    for check in checks:
        echo(check.line())
    for line in summary_lines(medians, baseline):
        echo(line)
    return StartupResult(medians=medians, baseline=baseline, checks=checks)


def timed(argv: Sequence[str], env: dict[str, str], cwd: Path) -> tuple[float, float, int]:
    """Wall and CPU seconds of `python ARGV`, and its exit code."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    completed = subprocess.run(
        [sys.executable, *argv],
        env=env,
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        timeout=RUN_TIMEOUT_SECONDS,
        check=False,
    )
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, completed.returncode


def help_imports(env: dict[str, str], cwd: Path) -> set[str]:
    """The modules `voicehook --help` leaves loaded."""
    completed = subprocess.run(
        [sys.executable, "-c", PROBE],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_SECONDS,
        check=False,
    )
    lines = completed.stderr.strip().splitlines()
    if not lines:
        raise BenchError(f"voicehook --help printed nothing to stderr: {completed.stdout[-500:]}")
    return set(lines[-1].split())
