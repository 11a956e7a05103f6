"""Running a bench through the console script, for the short smoke runs."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys

import pytest

from tests.services import ROOT, missing_service
from voicehook.child_process import descendants
from voicehook.errors import RedisServerError
from voicehook.redis_server import redis_server_binary

# A short run takes a minute on a loaded 2-core machine; the bounds only guard against a hang.
SMOKE_SECONDS = 480
SMOKE_TEST_SECONDS = SMOKE_SECONDS + 60


def require_redis_server() -> None:
    """The benches start their own redis-server: skip without one (fail in CI)."""
    try:
        redis_server_binary()
    except RedisServerError as exc:
        missing_service(str(exc))


def run_bench(*args: str, timeout: float) -> list[str]:
    """`python -m bench ARGS`; its output lines, after asserting it succeeded.

    The bench runs in a session of its own; past `timeout` it is killed with every process
    below it (its worker's Dramatiq processes run in sessions of their own, out of reach of
    its group), and the test fails with what it printed."""
    process = subprocess.Popen(
        [sys.executable, "-m", "bench", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ),
        cwd=ROOT,
        start_new_session=True,
    )
    try:
        output, errors = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        for pid in [*descendants(process.pid), process.pid]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        output, errors = process.communicate()
        pytest.fail(f"bench {args[0]} ran past {timeout:.0f}s; killed its tree:\n{output}{errors}")
    assert process.returncode == 0, output + errors
    lines = output.strip().splitlines()
    assert lines[-1].startswith("ratio="), output
    assert float(lines[-1].removeprefix("ratio=")) >= 0
    checks = [line for line in lines if line.startswith("check ")]
    assert checks, output
    assert all(": ok - " in line for line in checks), output
    return lines
