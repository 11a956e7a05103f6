"""The webhook endpoint inside a span: where a delivery's trace begins (traces on only).

Each webhook request starts a new trace: the upstream sends no trace context, and one taken
from an unauthenticated request would let anyone join their spans to ours.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from config.tracing import annotate, span


class TracedWebhook:
    """Runs the webhook endpoint in a `webhook.receive` span and notes the status it sent."""

    def __init__(self, endpoint: ASGIApp) -> None:
        self._endpoint = endpoint

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def noting_status(message: Message) -> None:
            if message["type"] == "http.response.start":
                annotate(**{"http.response.status_code": int(message["status"])})
            await send(message)

        with span(
            "webhook.receive",
            **{"http.request.method": scope["method"], "url.path": scope["path"]},
        ):
            await self._endpoint(scope, receive, noting_status)
