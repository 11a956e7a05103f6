"""Serving an ASGI app with uvicorn on a background thread: tests, `voicehook dev`, benchmarks."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import uvicorn
from starlette.types import ASGIApp

from sandbox.app import create_app
from sandbox.errors import ServerNotStarted
from sandbox.settings import SandboxSettings

START_TIMEOUT_SECONDS = 15.0
STOP_TIMEOUT_SECONDS = 15.0
LISTEN_BACKLOG = 2048


@contextlib.contextmanager
def serve_in_thread(app: ASGIApp, sock: socket.socket) -> Iterator[None]:
    """Serve `app` on the already-bound `sock` until the block ends (lifespan included)."""
    config = uvicorn.Config(app, lifespan="on", log_config=None, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            raise ServerNotStarted("the server did not start; see the log above")
        time.sleep(0.01)
    try:
        yield
    finally:
        server.should_exit = True
        thread.join(STOP_TIMEOUT_SECONDS)


def bind_socket(host: str = "127.0.0.1", port: int = 0) -> socket.socket:
    """A listening TCP socket; port 0 picks a free one, so there is no race to find one.

    It listens at once, so clients that connect before the server has started wait in the
    backlog instead of being refused.
    """
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(LISTEN_BACKLOG)
    return sock


@dataclass(frozen=True)
class RunningSandbox:
    """A sandbox served on a thread: where it is and how to call it."""

    url: str
    settings: SandboxSettings

    @property
    def api_base_url(self) -> str:
        return self.url + "/v1"

    @property
    def api_key(self) -> str:
        return self.settings.api_key.get_secret_value()


@contextlib.contextmanager
def run_sandbox(
    settings: SandboxSettings | None = None, *, host: str = "127.0.0.1", port: int = 0
) -> Iterator[RunningSandbox]:
    """Run a sandbox on `host:port` (0: a free port) on a thread until the block ends."""
    settings = settings or SandboxSettings()
    with contextlib.closing(bind_socket(host, port)) as sock:
        port = sock.getsockname()[1]
        settings = settings.model_copy(update={"host": host, "port": port})
        running = RunningSandbox(url=settings.base_url(), settings=settings)
        with serve_in_thread(create_app(settings), sock):
            yield running
