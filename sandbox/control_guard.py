"""Keeps web pages out of the control API (`/sandbox/...`).

The control API has no authentication (it is for tests and developers), and it can send
events and hands out the webhook secret. A page in a browser on the same machine could
otherwise reach it: a cross-site `text/plain` POST needs no preflight, and DNS rebinding
points a foreign name at 127.0.0.1. So a control request must

- name the sandbox by a loopback name, an IP literal, or its public URL's host (`Host`;
  a rebinding name is none of these);
- come from the same origin when a browser says where it comes from (`Origin`,
  `Sec-Fetch-Site`);
- send any body as `application/json`, which a page cannot without a preflight the sandbox
  never grants.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Receive, Scope, Send

CONTROL_PREFIX = "/sandbox"
LOOPBACK_NAMES = frozenset({"localhost", "localhost."})
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def host_name(value: str) -> str:
    """The host of a `Host` header value or URL netloc, without port or brackets."""
    text = value.strip().lower()
    if text.startswith("["):
        return text[1 : text.find("]")] if "]" in text else text
    return text.rsplit(":", 1)[0] if text.count(":") == 1 else text


def is_trusted_host(name: str, extra: Iterable[str] = ()) -> bool:
    if name in LOOPBACK_NAMES or name in extra:
        return True
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def refusal(
    method: str, headers: dict[bytes, bytes], extra_hosts: Iterable[str] = ()
) -> str | None:
    """Why a control request is refused (None: it is not). Pure, for tests."""
    host = headers.get(b"host", b"").decode("latin-1")
    if not is_trusted_host(host_name(host), extra_hosts):
        return "the Host header names no address of this sandbox"
    if headers.get(b"sec-fetch-site", b"") == b"cross-site":
        return "a cross-site request"
    origin = headers.get(b"origin")
    if (
        origin is not None
        and origin != b"null"
        and urlsplit(origin.decode("latin-1")).netloc != host
    ):
        return "the Origin is another site"
    if origin == b"null":
        return "an opaque Origin"
    if method not in SAFE_METHODS and _has_body(headers):
        media = headers.get(b"content-type", b"").split(b";", 1)[0].strip().lower()
        if media != b"application/json":
            return "a body that is not application/json"
    return None


def _has_body(headers: dict[bytes, bytes]) -> bool:
    length = headers.get(b"content-length", b"0").strip()
    return b"transfer-encoding" in headers or (length.isdigit() and int(length) > 0)


class ControlGuard:
    """Answers 403 to control requests `refusal` objects to; everything else passes."""

    def __init__(self, app: ASGIApp, extra_hosts: Iterable[str] = ()) -> None:
        self._app = app
        self._extra = frozenset(host_name(host) for host in extra_hosts if host)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(CONTROL_PREFIX):
            headers = dict(scope["headers"])
            reason = refusal(scope["method"], headers, self._extra)
            if reason is not None:
                body = b'{"error":"forbidden","message":"' + reason.encode() + b'"}'
                await send(
                    {
                        "type": "http.response.start",
                        "status": 403,
                        "headers": [
                            (b"content-type", b"application/json"),
                            (b"content-length", b"%d" % len(body)),
                        ],
                    }
                )
                await send({"type": "http.response.body", "body": body})
                return
        await self._app(scope, receive, send)
