"""The receiver app run in this process, its deliveries committed on a thread (no writer
process): through Starlette's TestClient, or served by uvicorn on a thread for callers that
need a real socket (another process, raw HTTP)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import uvicorn
from starlette.testclient import TestClient
from starlette.types import ASGIApp

from config.broker import build_broker
from config.database import make_engine
from config.settings import Settings
from receiver.app import create_app
from tests.services import wait_for

CLIENT_ADDRESS = ("127.0.0.1", 50000)  # where TestClient's requests come from


@contextmanager
def receiver_app(settings: Settings) -> Iterator[ASGIApp]:
    """The receiver app with inline commit (`INGEST_INLINE`), its engine and broker closed
    afterwards."""
    engine = make_engine(settings)
    broker = build_broker(settings)
    try:
        yield create_app(
            settings.model_copy(update={"ingest_inline": True}), engine=engine, broker=broker
        )
    finally:
        broker.client.close()
        engine.dispose()


@contextmanager
def receiver_client(settings: Settings) -> Iterator[TestClient]:
    """A TestClient of the receiver app, its lifespan running for the block."""
    with receiver_app(settings) as app, TestClient(app, client=CLIENT_ADDRESS) as client:
        yield client


@contextmanager
def served(app: ASGIApp, **options: Any) -> Iterator[str]:
    """`app` served over HTTP by uvicorn on a thread of this process; yields its base URL.

    `options` go to `uvicorn.Config` (e.g. proxy_headers, forwarded_allow_ips)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on", **options)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        wait_for(
            lambda: server.started or not thread.is_alive(),
            timeout=60,
            description="uvicorn on a thread started",
        )
        if not server.started:
            raise AssertionError("uvicorn on a thread exited before it started (see its log)")
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(30)
        sock.close()


@contextmanager
def served_receiver(settings: Settings, **options: Any) -> Iterator[str]:
    """The receiver app with inline commit, served on a thread; yields its base URL."""
    with receiver_app(settings) as app, served(app, **options) as url:
        yield url


@dataclass(frozen=True)
class Served:
    """A receiver served over a socket: its base URL, and an HTTP client of it."""

    url: str
    client: httpx.Client


@contextmanager
def served_receiver_client(settings: Settings) -> Iterator[Served]:
    """`served_receiver`, with a client of it."""
    with served_receiver(settings) as url, httpx.Client(base_url=url, timeout=30) as client:
        yield Served(url, client)
