"""Running a bench through the console script, for the short smoke runs."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.services import ROOT, missing_service
from voicehook.errors import RedisServerError
from voicehook.redis_server import redis_server_binary


def require_redis_server() -> None:
    """The benches start their own redis-server: skip without one (fail in CI)."""
    try:
        redis_server_binary()
    except RedisServerError as exc:
        missing_service(str(exc))


def run_bench(*args: str, timeout: float) -> list[str]:
    """`python -m bench ARGS`; its output lines, after asserting it succeeded."""
    completed = subprocess.run(
        [sys.executable, "-m", "bench", *args],
        capture_output=True,
        text=True,
        env=dict(os.environ),
        cwd=ROOT,
        timeout=timeout,
        check=False,
    )
    output = completed.stdout
    assert completed.returncode == 0, output + completed.stderr
    lines = output.strip().splitlines()
    assert lines[-1].startswith("ratio="), output
    assert float(lines[-1].removeprefix("ratio=")) >= 0
    checks = [line for line in lines if line.startswith("check ")]
    assert checks, output
    assert all(": ok - " in line for line in checks), output
    return lines
