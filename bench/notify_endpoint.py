"""The business's app as the notify bench sees it: an endpoint on a thread of the bench
process that verifies each notification (`standardwebhooks`) and notes when it arrived."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

import orjson
from standardwebhooks.webhooks import Webhook, WebhookVerificationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sandbox.server import bind_socket, serve_in_thread


@dataclass(frozen=True, slots=True)
class Arrival:
    webhook_id: str
    changed_at: float  # the body's timestamp: when the change committed (Unix seconds)
    arrived_at: float


class CountingEndpoint:
    """Answers 204 to verified notifications (401 otherwise) and keeps their arrivals."""

    def __init__(self, secret: str) -> None:
        self._webhook = Webhook(secret)
        self._lock = threading.Lock()
        self.arrivals: list[Arrival] = []
        self.rejected = 0
        self.url = ""
        self.app = Starlette(routes=[Route("/hooks", self._answer, methods=["POST"])])

    def count(self) -> int:
        with self._lock:
            return len(self.arrivals)

    def since(self, index: int) -> list[Arrival]:
        with self._lock:
            return self.arrivals[index:]

    async def _answer(self, request: Request) -> Response:
        body = await request.body()
        arrived = time.time()
        try:
            payload = self._webhook.verify(body, dict(request.headers), json_parse=False)
        except WebhookVerificationError:
            with self._lock:
                self.rejected += 1
            return Response(status_code=401)
        assert payload is None
        stamp = orjson.loads(body)["timestamp"]
        changed = datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()
        with self._lock:
            self.arrivals.append(Arrival(request.headers["webhook-id"], changed, arrived))
        return Response(status_code=204)


@contextmanager
def counting_endpoint(secret: str) -> Iterator[CountingEndpoint]:
    endpoint = CountingEndpoint(secret)
    sock = bind_socket()
    host, port = sock.getsockname()[:2]
    endpoint.url = f"http://{host}:{port}/hooks"
    with sock, serve_in_thread(endpoint.app, sock):
        yield endpoint
