"""Running a bench through the console script, for the short smoke runs.

A bench starts servers, workers and Redis of its own; so it runs in a session of its own,
and when it is still running at the deadline (which only guards a hang) it is killed with
every process below it, the servers it started in sessions of their own included, and the
test fails with the tail of what it printed. What it left in its session is killed too.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.services import ROOT, missing_service
from voicehook.child_process import ChildProcess
from voicehook.errors import RedisServerError
from voicehook.redis_server import redis_server_binary

# A short run takes a minute on a loaded 2-core machine; the bounds only guard against a hang.
SMOKE_SECONDS = 480
SMOKE_TEST_SECONDS = SMOKE_SECONDS + 60
OUTPUT_TAIL_CHARS = 4000
BENCH = (sys.executable, "-m", "bench")


@dataclass(frozen=True)
class Finished:
    """A program that ran to its end: its exit code and its whole output."""

    returncode: int
    stdout: str
    stderr: str


def require_redis_server() -> None:
    """The benches start their own redis-server: skip without one (fail in CI)."""
    try:
        redis_server_binary()
    except RedisServerError as exc:
        missing_service(str(exc))


def run_in_session(
    argv: Sequence[str], *, timeout: float, env: Mapping[str, str] | None = None
) -> Finished:
    """Run `argv` from the project's root in a session of its own, to its end.

    Past `timeout` (or when the test is interrupted) every process of the session and every
    process descended from it is killed and the test fails with the tail of its output; what
    it left running in its session after a normal end is killed likewise.
    """
    with tempfile.TemporaryDirectory(prefix="voicehook-bench-run-") as folder:
        out_path, err_path = Path(folder, "stdout"), Path(folder, "stderr")
        with out_path.open("wb") as out, err_path.open("wb") as err:
            process = subprocess.Popen(
                list(argv),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                env=dict(os.environ if env is None else env),
                cwd=ROOT,
                start_new_session=True,
            )
        child = ChildProcess(
            process, name=" ".join(argv[1:]), log_path=err_path, own_session=True, grace_seconds=10
        )
        code = None
        try:
            code = child.wait(timeout)
        finally:
            # SIGKILL at once: a SIGTERM first would let the bench die before its servers,
            # and those, in sessions of their own, would no longer be found below it.
            if code is None or child.running(group=True):
                child.kill()
        stdout, stderr = out_path.read_text(errors="replace"), child.log_text()
    if code is None:
        pytest.fail(
            f"{child.name} still ran after {timeout:g}s; stopped with every process it started"
            f"\n--- stdout ---\n{stdout[-OUTPUT_TAIL_CHARS:]}"
            f"\n--- stderr ---\n{stderr[-OUTPUT_TAIL_CHARS:]}"
        )
    return Finished(code, stdout, stderr)


def run_bench(*args: str, timeout: float, env: Mapping[str, str] | None = None) -> list[str]:
    """`python -m bench ARGS`; its output lines, after asserting it succeeded."""
    completed = run_in_session([*BENCH, *args], timeout=timeout, env=env)
    output = completed.stdout
    assert completed.returncode == 0, output + completed.stderr
    lines = output.strip().splitlines()
    assert lines[-1].startswith("ratio="), output
    assert float(lines[-1].removeprefix("ratio=")) >= 0
    checks = [line for line in lines if line.startswith("check ")]
    assert checks, output
    assert all(": ok - " in line for line in checks), output
    return lines
