"""Which request headers are kept with a delivery: an allow-list, each value capped.

A deny-list of credential names missed every other way of carrying one (`X-Auth-Token`,
`Api-Key`, `X-Amz-Security-Token`, ...), and stored whatever size a client sent. What is
kept is what helps to understand or replay a delivery: its signature, its content type and
length, who sent it through which proxies, and tracing ids.
"""

from __future__ import annotations

from config.signing import SIGNATURE_HEADER

STORED_HEADERS = frozenset(
    {
        SIGNATURE_HEADER.lower(),
        "content-type",
        "content-length",
        "content-encoding",
        "user-agent",
        "x-request-id",
        "x-forwarded-for",
        "x-forwarded-proto",
        "x-voicehook-replay",
        "traceparent",
        "tracestate",
    }
)
MAX_VALUE_CHARS = 1024  # a longer value is cut to this (and marked)
TRUNCATED = "...[truncated]"
_STORED = frozenset(name.encode() for name in STORED_HEADERS)


def is_stored(name: str) -> bool:
    return name.lower() in STORED_HEADERS


def storable_headers(raw: list[tuple[bytes, bytes]]) -> dict[str, str]:
    """The allowed headers of a request (lowercase names, repeated ones joined), capped."""
    stored: dict[str, str] = {}
    for name, value in raw:
        if name not in _STORED:
            continue
        key = name.decode("latin-1")
        text = value.decode("latin-1")
        stored[key] = f"{stored[key]}, {text}" if key in stored else text
    for key, text in stored.items():
        if len(text) > MAX_VALUE_CHARS:
            stored[key] = text[: MAX_VALUE_CHARS - len(TRUNCATED)] + TRUNCATED
    return stored
