"""Real services for tests: private Redis servers, databases, and receiver processes.

A missing service skips the tests that need it locally, and fails them when
VOICEHOOK_REQUIRE_SERVICES is set (CI), so CI can never pass by skipping.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from tests.databases import admin_engine, schema_url
from tests.waiting import HANG_SECONDS, describe, wait_until
from tests.waiting import LOG_TAIL_CHARS as LOG_TAIL_CHARS  # noqa: PLC0414 - re-exported
from voicehook.child_process import ChildProcess
from voicehook.child_process import free_port as free_port  # noqa: PLC0414 - the tests take it from here
from voicehook.redis_server import RedisServer, start_throwaway_redis

REQUIRE_SERVICES = bool(os.environ.get("VOICEHOOK_REQUIRE_SERVICES"))
ROOT = Path(__file__).resolve().parents[1]


def missing_service(reason: str) -> None:
    """Skip locally; fail in CI, where every service must be there."""
    if REQUIRE_SERVICES:
        pytest.fail(f"required service missing: {reason}")
    pytest.skip(reason)


def wait_for(
    predicate: Callable[[], object],
    timeout: float = HANG_SECONDS,
    interval: float = 0.05,
    *,
    description: str | None = None,
    log: Callable[[], str] | None = None,
) -> None:
    """Poll `predicate()` until it is truthy, or fail after `timeout` seconds (see `wait_until`)."""
    wait_until(
        predicate,
        timeout=timeout,
        interval=interval,
        description=description or describe(predicate),
        log=log,
    )


@contextmanager
def redis_process(workdir: Path) -> Iterator[RedisServer]:
    """A private redis-server on a port of its own, which a test may stop and start again."""
    server = start_throwaway_redis(workdir)
    try:
        yield server
    finally:
        server.stop()


@contextmanager
def postgres_schema(base_url: str) -> Iterator[str]:
    """A fresh schema on the test PostgreSQL server; yields a URL whose search_path is it."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = admin_engine(base_url)
    try:
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as exc:  # any failure here means no usable server
        admin.dispose()
        missing_service(f"PostgreSQL at {base_url}: {exc}")
    try:
        yield schema_url(base_url, schema)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@dataclass
class ServerProcess:
    """A uvicorn process serving one of our apps over real HTTP."""

    url: str
    child: ChildProcess
    env: dict[str, str] = field(default_factory=dict)

    @property
    def process(self) -> subprocess.Popen[bytes]:
        return self.child.process

    def stop(self) -> None:
        self.child.stop()

    def log(self) -> str:
        return self.child.log_text()


def answers_health(url: str) -> bool:
    """Whether `url` answers 200 on /healthz."""
    try:
        return httpx.get(f"{url}/healthz", timeout=0.5).status_code == 200
    except httpx.HTTPError:
        return False


def start_receiver(
    env: Mapping[str, str], log_path: Path, *, extra_args: tuple[str, ...] = ()
) -> ServerProcess:
    """Start `receiver.app:app_from_environment` under uvicorn and wait until it answers;
    ChildProcessFailed, with the tail of its log, if it does not."""
    port = free_port()
    child = ChildProcess.start(
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
        name="receiver",
        env={**os.environ, "LOG_FORMAT": "json", **env},
        cwd=ROOT,
        log_path=log_path,
        grace_seconds=15,
    )
    server = ServerProcess(f"http://127.0.0.1:{port}", child, dict(env))
    child.wait_until_ready(lambda: answers_health(server.url), timeout=120)
    return server
