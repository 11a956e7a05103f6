"""A real `voicehook web` process and raw-socket clients, for the hostile-input tests."""

from __future__ import annotations

import contextlib
import os
import socket
import sys
import threading
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

import httpx

from tests.in_process import Served
from tests.receiver.conftest import WEBHOOK, envelope, receiver_env, signed_headers
from tests.services import ROOT, ServerProcess, answers_health, free_port
from tests.waiting import HANG_SECONDS
from voicehook.child_process import ChildProcess


@contextlib.contextmanager
def voicehook_web(
    database_url: str,
    redis_url: str,
    log_path: Path,
    *,
    descriptor_limit: int | None = None,
    env: Mapping[str, str] | None = None,
) -> Iterator[ServerProcess]:
    """`voicehook web` as the Procfile runs it, on a free port; its log printed on failure.

    `descriptor_limit` runs it under `ulimit -n` (soft and hard), as a platform would."""
    port = free_port()
    settings = receiver_env(database_url, redis_url, **(env or {}))
    argv = [sys.executable, "-m", "voicehook", "web", "--host", "127.0.0.1", "--port", str(port)]
    if descriptor_limit is not None:
        argv = ["sh", "-c", f'ulimit -n {descriptor_limit} && exec "$@"', "sh", *argv]
    child = ChildProcess.start(
        argv,
        name="voicehook web",
        env={**os.environ, "LOG_FORMAT": "json", **settings},
        cwd=ROOT,
        log_path=log_path,
        grace_seconds=20,
    )
    server = ServerProcess(f"http://127.0.0.1:{port}", child, dict(env or {}))
    try:
        # A hang guard: a loaded machine starts the writer processes slowly.
        child.wait_until_ready(lambda: answers_health(server.url), timeout=240)
        yield server
    except BaseException:
        print(f"--- voicehook web log ---\n{server.log()}")
        raise
    finally:
        server.stop()


def address(server: ServerProcess) -> tuple[str, int]:
    host, port = server.url.removeprefix("http://").split(":")
    return host, int(port)


def connect(server: ServerProcess, timeout: float = 30.0) -> socket.socket:
    sock = socket.create_connection(address(server), timeout=timeout)
    sock.settimeout(timeout)
    return sock


def read_until_closed(sock: socket.socket, limit: int = 1 << 20) -> bytes:
    """Everything the server sends until it closes the connection (or resets it)."""
    received = b""
    with contextlib.suppress(ConnectionResetError):
        while len(received) < limit:
            chunk = sock.recv(65536)
            if not chunk:
                break
            received += chunk
    return received


def answer_to_trickle(sock: socket.socket, pieces: Iterable[bytes], pace: float = 0.05) -> bytes:
    """Send `pieces` on `sock` one per `pace` seconds (the attack's own pace, not a wait on the
    server) from a thread, and return what the server sends until it closes."""
    closed = threading.Event()

    def trickle() -> None:
        try:
            for piece in pieces:
                if closed.wait(pace):
                    return
                sock.send(piece)
        except OSError:
            return

    sender = threading.Thread(target=trickle, daemon=True)
    sender.start()
    answer = read_until_closed(sock)
    closed.set()
    sender.join(10)
    return answer


def post_signed(
    server: ServerProcess | Served,
    resource_id: str,
    *,
    headers: Mapping[str, str] | None = None,
    body: bytes | None = None,
    timeout: float = HANG_SECONDS,
) -> httpx.Response:
    body = envelope(resource_id=resource_id) if body is None else body
    return httpx.post(
        server.url + WEBHOOK,
        content=body,
        headers=signed_headers(body) | dict(headers or {}),
        timeout=timeout,
    )
