"""The baseline: a bare Starlette endpoint at the webhook path that answers 202 and does nothing.

Served by the same launcher, with the same server settings, as the receiver, so the ratio of
the two measures what the receiver's work costs and nothing else.
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

WEBHOOK_PATH = "/webhooks/voiceproductionai"


async def accept(_: Request) -> JSONResponse:
    return JSONResponse({"status": "accepted", "eventId": "bare"}, status_code=202)


def create_bare_app() -> Starlette:
    """Uvicorn factory (`bench.bare:create_bare_app --factory`)."""
    return Starlette(routes=[Route(WEBHOOK_PATH, accept, methods=["POST"])])
