"""Binds a request id to every log line of a request, and echoes it back in `X-Request-ID`."""

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


class RequestIdMiddleware:
    """Takes a sane incoming `X-Request-ID` (from a router) or makes one."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _incoming_id(scope) or f"{_PREFIX}{next(_COUNTER):08x}"
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
        if name == REQUEST_ID_HEADER and _ACCEPTABLE_ID.fullmatch(value):
            return str(value.decode())
    return None
