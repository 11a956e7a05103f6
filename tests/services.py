"""Real services for tests: private Redis servers, databases, and receiver processes.

A missing service skips the tests that need it locally, and fails them when
VOICEHOOK_REQUIRE_SERVICES is set (CI), so CI can never pass by skipping.
"""

from __future__ import annotations

import inspect
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text

from voicehook.redis_server import RedisServer, throwaway_options

REQUIRE_SERVICES = bool(os.environ.get("VOICEHOOK_REQUIRE_SERVICES"))
ROOT = Path(__file__).resolve().parents[1]
LOG_TAIL_CHARS = 4000  # of a process's log, printed when a wait on it fails


def missing_service(reason: str) -> None:
    """Skip locally; fail in CI, where every service must be there."""
    if REQUIRE_SERVICES:
        pytest.fail(f"required service missing: {reason}")
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(
    predicate: Callable[[], object],
    timeout: float = 30.0,
    interval: float = 0.05,
    *,
    description: str | None = None,
    log: Callable[[], str] | None = None,
) -> None:
    """Poll `predicate()` until it is truthy, or fail after `timeout` seconds.

    The deadline only guards against a hang, so it is generous. The failure says what was
    awaited (`description`, else the predicate's source) and, when `log` is given, ends with
    the tail of what it returns (the log of the process the test waits on).
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    if predicate():
        return
    message = f"not within {timeout:g}s: {description or describe(predicate)}"
    if log is not None:
        message += f"\n--- log (last {LOG_TAIL_CHARS} characters) ---\n{log()[-LOG_TAIL_CHARS:]}"
    raise AssertionError(message)


def describe(predicate: Callable[[], object]) -> str:
    """The source of `predicate` (a lambda's line), or its name."""
    try:
        return inspect.getsource(predicate).strip()
    except (OSError, TypeError):
        return getattr(predicate, "__qualname__", repr(predicate))


@contextmanager
def redis_process(workdir: Path) -> Iterator[RedisServer]:
    """A private redis-server on a port of its own, which a test may stop and start again."""
    port = free_port()
    server = RedisServer(
        f"redis://127.0.0.1:{port}/0", throwaway_options("127.0.0.1", port, workdir)
    )
    server.start()
    try:
        yield server
    finally:
        server.stop()


@contextmanager
def postgres_schema(base_url: str) -> Iterator[str]:
    """A fresh schema on the test PostgreSQL server; yields a URL whose search_path is it."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base_url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as exc:  # any failure here means no usable server
        admin.dispose()
        missing_service(f"PostgreSQL at {base_url}: {exc}")
    separator = "&" if "?" in base_url else "?"
    try:
        yield f"{base_url}{separator}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@dataclass
class ServerProcess:
    """A uvicorn process serving one of our apps over real HTTP."""

    url: str
    process: subprocess.Popen[bytes]
    log_path: Path
    env: dict[str, str] = field(default_factory=dict)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def start_receiver(
    env: Mapping[str, str], log_path: Path, *, extra_args: tuple[str, ...] = ()
) -> ServerProcess:
    """Start `receiver.app:app_from_environment` under uvicorn and wait until it answers."""
    port = free_port()
    full_env = {**os.environ, "LOG_FORMAT": "json", **env}
    log_file = log_path.open("ab")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "receiver.app:app_from_environment",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-access-log",
            "--log-level",
            "warning",
            *extra_args,
        ],
        env=full_env,
        cwd=ROOT,
        stdout=log_file,
        stderr=subprocess.STDOUT,
    )
    server = ServerProcess(f"http://127.0.0.1:{port}", process, log_path, dict(env))

    def healthy() -> bool:
        if process.poll() is not None:
            raise AssertionError(f"receiver exited early:\n{server.log()}")
        try:
            return httpx.get(f"{server.url}/healthz", timeout=0.5).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        wait_for(healthy, timeout=60, description="the receiver answers /healthz", log=server.log)
    except BaseException:
        server.stop()
        raise
    return server
