"""Reading an ASGI request body once, refusing it as soon as it grows past a cap."""

from __future__ import annotations

from starlette.types import Receive

from receiver.errors import BodyTooLarge, ClientGone


async def read_body_capped(receive: Receive, declared: bytes | None, cap: int) -> bytes:
    """The whole body, or BodyTooLarge after reading at most `cap` bytes of it."""
    if declared is not None and declared.isdigit() and int(declared) > cap:
        raise BodyTooLarge(f"declared {declared.decode()} bytes, cap is {cap}")
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientGone("client disconnected while sending its body")
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > cap:
            raise BodyTooLarge(f"more than {cap} bytes")
        chunks.append(chunk)
        if not message.get("more_body", False):
            return chunks[0] if len(chunks) == 1 else b"".join(chunks)
