"""Reading a request body once, refusing it as soon as it grows past a cap."""

from __future__ import annotations

from starlette.requests import Request


class BodyTooLarge(ValueError):
    """Raised when a body is (or declares itself) larger than the configured cap."""


async def read_body_capped(request: Request, cap: int) -> bytes:
    """The whole body, or BodyTooLarge after reading at most `cap` bytes of it."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > cap:
        raise BodyTooLarge(f"declared {declared} bytes, cap is {cap}")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > cap:
            raise BodyTooLarge(f"more than {cap} bytes")
        chunks.append(chunk)
    return b"".join(chunks)
