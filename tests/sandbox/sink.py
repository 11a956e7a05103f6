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
from tests.waiting import HANG_SECONDS, wait_until


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

    def wait_for(
        self, count: int, path: str | None = None, timeout: float = HANG_SECONDS
    ) -> list[Received]:
        """At least `count` requests (to `path`), or fail after `timeout` seconds."""

        def enough() -> list[Received] | None:
            got = self.received(path)
            return got if len(got) >= count else None

        return wait_until(
            enough, timeout=timeout, interval=0.01, description=f"{count} webhook(s) at {path}"
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
