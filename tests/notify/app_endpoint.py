"""The business's app, for notification tests: a real HTTP server (Starlette under uvicorn on
a thread) that verifies every notification with the `standardwebhooks` library, as an app
would, and answers as the test says (a status per request, or holding requests until
released)."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import orjson
from standardwebhooks.webhooks import Webhook, WebhookVerificationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sandbox.server import bind_socket, serve_in_thread
from tests.waiting import wait_until_async

HOLD_LIMIT_SECONDS = 120.0  # a held request is answered 503 after this, should a test forget it


@dataclass(frozen=True)
class Received:
    """One request the app got: its webhook-id, what it verified with, and its answer."""

    webhook_id: str
    headers: dict[str, str]
    body: bytes
    verified_by: tuple[str, ...]  # which of the app's secrets verified it (empty: none)
    answered: int  # 0: the sender was gone before the answer

    @property
    def payload(self) -> dict[str, Any]:
        value: dict[str, Any] = orjson.loads(self.body)
        return value


class AppEndpoint:
    """Records every request; answers with the next status queued, else `default_status`."""

    def __init__(self, secrets: Sequence[str]) -> None:
        self.secrets = list(secrets)
        self.default_status = 200
        self.statuses: list[int] = []
        self.received: list[Received] = []
        self.holding = 0
        self._hold = threading.Event()
        self._lock = threading.Lock()
        self.url = ""
        self.app = Starlette(routes=[Route("/hooks", self._answer, methods=["POST"])])

    def hold(self) -> None:
        """Keep every request from now on waiting, unanswered, until `release`."""
        self._hold.set()

    def release(self) -> None:
        self._hold.clear()

    def delivered(self) -> list[Received]:
        """The requests answered 2xx: what the app took in."""
        with self._lock:
            return [r for r in self.received if 200 <= r.answered < 300]

    async def _answer(self, request: Request) -> Response:
        body = await request.body()
        headers = dict(request.headers)
        if self._hold.is_set():
            with self._lock:
                self.holding += 1
            try:
                await wait_until_async(
                    lambda: not self._hold.is_set(),
                    description="the test releases the held requests",
                    timeout=HOLD_LIMIT_SECONDS,
                    interval=0.01,
                )
            except AssertionError:
                return Response(status_code=503)  # the test forgot to release it
            if await request.is_disconnected():  # the sender gave up or died meanwhile
                with self._lock:
                    self.received.append(
                        Received(headers.get("webhook-id", ""), headers, body, (), 0)
                    )
                return Response(status_code=499)
        verified = tuple(secret for secret in self.secrets if _verifies(secret, body, headers))
        with self._lock:
            status = self.statuses.pop(0) if self.statuses else self.default_status
            if not verified:
                status = 401
            self.received.append(
                Received(headers.get("webhook-id", ""), headers, body, verified, status)
            )
        return Response(status_code=status)


def _verifies(secret: str, body: bytes, headers: dict[str, str]) -> bool:
    try:
        Webhook(secret).verify(body, headers)
    except WebhookVerificationError:
        return False
    return True


@contextmanager
def running_app_endpoint(secrets: Sequence[str]) -> Iterator[AppEndpoint]:
    endpoint = AppEndpoint(secrets)
    sock = bind_socket()
    host, port = sock.getsockname()[:2]
    endpoint.url = f"http://{host}:{port}/hooks"
    with sock, serve_in_thread(endpoint.app, sock):
        yield endpoint
