"""Headers every dashboard answer carries: a strict Content-Security-Policy (no inline
script or style, nothing from another origin but a bucket's audio), no framing, no caching."""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send


def content_security_policy(media_origins: tuple[str, ...] = ()) -> str:
    media = " ".join(("'self'", *media_origins))
    return "; ".join(
        (
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",
            f"media-src {media}",
            "connect-src 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
            "base-uri 'none'",
        )
    )


def media_origins(storage_url: str | None, s3_endpoint_url: str | None) -> tuple[str, ...]:
    """Where the audio player may be redirected to: the bucket's endpoint, when audio is in
    a bucket (`GET …/audio` answers with a presigned link there)."""
    if not storage_url:
        return ()
    if s3_endpoint_url:
        parts = urlsplit(s3_endpoint_url)
        return (f"{parts.scheme}://{parts.netloc}",)
    return ("https://*.amazonaws.com",)


class SecurityHeaders:
    """ASGI middleware adding the dashboard's headers to each of its answers."""

    def __init__(self, app: ASGIApp, policy: str) -> None:
        self._app = app
        self._headers = {
            "content-security-policy": policy,
            "x-frame-options": "DENY",
            "x-content-type-options": "nosniff",
            "referrer-policy": "same-origin",
            "cache-control": "no-store",
            "cross-origin-opener-policy": "same-origin",
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in self._headers.items():
                    headers.setdefault(name, value)
            await send(message)

        await self._app(scope, receive, with_headers)
