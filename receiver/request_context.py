"""Request ids: taken from a router's `X-Request-ID` when sane, else made; bound to every log
line of the request and echoed back."""

from __future__ import annotations

import itertools
import os
import re

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

REQUEST_ID_HEADER = b"x-request-id"
_ACCEPTABLE_ID = re.compile(rb"[A-Za-z0-9._:-]{1,128}")
# Unique per process by the counter, across processes by the random prefix; no syscall.
_PREFIX = os.urandom(8).hex()
_COUNTER = itertools.count(1)


def new_request_id() -> str:
    return f"{_PREFIX}{next(_COUNTER):08x}"


def valid_request_id(value: bytes) -> bool:
    return _ACCEPTABLE_ID.fullmatch(value) is not None


class RequestIdMiddleware:
    """Binds and echoes the request id for the routes served by Starlette."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _incoming_id(scope) or new_request_id()
        encoded = request_id.encode()

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), (REQUEST_ID_HEADER, encoded)]
            await send(message)

        # Each request runs in a task of its own, with a copy of the context: binding here
        # cannot leak into another request, so no reset is needed.
        structlog.contextvars.bind_contextvars(request_id=request_id)
        await self.app(scope, receive, send_with_id)


def _incoming_id(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == REQUEST_ID_HEADER and valid_request_id(value):
            return str(value.decode())
    return None
