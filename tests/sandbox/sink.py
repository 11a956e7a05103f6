"""A real webhook endpoint for tests: records every request and answers as told."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sandbox.server import bind_socket, serve_in_thread


@dataclass(frozen=True)
class Reply:
    status: int = 200
    delay: float = 0.0


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float


class WebhookSink:
    """Collects POSTs on any path; `plan` queues the replies for the next requests to a path."""

    def __init__(self) -> None:
        self.url = ""
        self._lock = threading.Lock()
        self._received: list[Received] = []
        self._plans: dict[str, list[Reply]] = {}
        self.app = Starlette(routes=[Route("/{path:path}", self._receive, methods=["POST"])])

    async def _receive(self, request: Request) -> Response:
        body = await request.body()
        path = request.url.path
        with self._lock:
            self._received.append(
                Received(path, dict(request.headers.items()), body, time.monotonic())
            )
            plan = self._plans.get(path)
            reply = plan.pop(0) if plan else Reply()
        if reply.delay:
            await asyncio.sleep(reply.delay)
        return Response(status_code=reply.status)

    def plan(self, path: str, *replies: Reply) -> None:
        with self._lock:
            self._plans[path] = list(replies)

    def received(self, path: str | None = None) -> list[Received]:
        with self._lock:
            return [r for r in self._received if path is None or r.path == path]

    def wait_for(self, count: int, path: str | None = None, timeout: float = 5.0) -> list[Received]:
        """At least `count` requests (to `path`), or fail after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got = self.received(path)
            if len(got) >= count:
                return got
            time.sleep(0.01)
        raise AssertionError(
            f"expected {count} webhook(s) at {path}, got {len(self.received(path))}"
        )

    def clear(self) -> None:
        with self._lock:
            self._received.clear()
            self._plans.clear()


@contextlib.contextmanager
def running_sink() -> Iterator[WebhookSink]:
    sink = WebhookSink()
    with contextlib.closing(bind_socket()) as sock:
        sink.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        with serve_in_thread(sink.app, sock):
            yield sink
