"""The Redis a bench run enqueues into when it is given none: a throwaway redis-server that
keeps nothing on disk (not `voicehook dev`'s embedded Redis, which keeps its data)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bench.errors import BenchError
from voicehook.errors import RedisServerError
from voicehook.redis_server import start_throwaway_redis


@contextmanager
def throwaway_redis(directory: Path) -> Iterator[str]:
    """A fresh, empty, non-persistent redis-server on a loopback port; yields its URL."""
    try:
        server = start_throwaway_redis(directory, log_path=directory / "redis.log")
    except RedisServerError as exc:
        raise BenchError(f"{exc} (or pass --redis-url)") from exc
    try:
        yield server.url
    finally:
        server.stop()
