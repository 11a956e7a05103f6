"""The Redis a bench run enqueues into when it is given none: a throwaway embedded server."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bench.errors import BenchError
from bench.launch import HOST
from bench.servers import free_port
from voicehook.redis_server import RedisServer, RedisServerError, throwaway_options


@contextmanager
def embedded_redis(directory: Path) -> Iterator[str]:
    """A fresh, empty, non-persistent redis-server on a loopback port; yields its URL."""
    port = free_port()
    server = RedisServer(
        f"redis://{HOST}:{port}/0",
        throwaway_options(HOST, port, directory),
        log_path=directory / "redis.log",
    )
    try:
        server.start()
    except RedisServerError as exc:
        raise BenchError(f"{exc} (or pass --redis-url)") from exc
    try:
        yield server.url
    finally:
        server.stop()
