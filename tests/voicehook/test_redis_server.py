"""The one launcher of private redis-servers (dev's embedded Redis, the benches', the tests')."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import redis

from tests.services import free_port
from voicehook.errors import RedisServerError
from voicehook.redis_server import RedisServer, throwaway_options


def throwaway(directory: Path, log: bool = False) -> RedisServer:
    port = free_port()
    return RedisServer(
        f"redis://127.0.0.1:{port}/0",
        throwaway_options("127.0.0.1", port, directory),
        log_path=directory / "redis.log" if log else None,
    )


def test_it_answers_once_started_and_no_longer_once_stopped(tmp_path: Path) -> None:
    server = throwaway(tmp_path)
    server.start()
    try:
        client = redis.Redis.from_url(server.url)
        client.set("k", "v")
        assert client.get("k") == b"v"
        client.close()
    finally:
        server.stop()
    assert not server.answers()
    server.stop()  # stopping a stopped server is harmless


def test_a_restart_on_the_same_port_keeps_nothing(tmp_path: Path) -> None:
    """What tests rely on to simulate an outage: same URL again, empty (nothing on disk)."""
    server = throwaway(tmp_path)
    server.start()
    redis.Redis.from_url(server.url).set("k", "v")
    server.stop()
    server.start()
    try:
        assert redis.Redis.from_url(server.url).get("k") is None
    finally:
        server.stop()


def test_a_server_that_exits_is_an_error_with_its_log(tmp_path: Path) -> None:
    server = throwaway(tmp_path, log=True)
    server.options = [*server.options, "--no-such-option", "1"]
    with pytest.raises(RedisServerError, match=r"(?s)exited with 1.*no-such-option"):
        server.start()
    assert server.child is None


def test_own_session_puts_it_outside_the_callers_process_group(tmp_path: Path) -> None:
    server = throwaway(tmp_path)
    server.own_session = True
    server.start()
    try:
        assert server.child is not None
        assert os.getpgid(server.child.pid) != os.getpgid(0)
    finally:
        server.stop()
