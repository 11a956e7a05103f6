"""Files on disk: uploads saved as they stream in, downloads streamed out (with their faults)."""

from __future__ import annotations

import asyncio
import logging
import os
import uuid
from collections.abc import AsyncIterable, AsyncIterator
from pathlib import Path

from sandbox.errors import DownloadCutOff, InvalidRequest
from sandbox.faults import DownloadPlan

log = logging.getLogger(__name__)

READ_CHUNK_BYTES = 256 * 1024
CORRUPTION_MASK = 0xA5


async def save_stream(chunks: AsyncIterable[bytes], target: Path, max_bytes: int) -> int:
    """Write a streamed body to `target`, refusing empty or oversized ones; return its size."""
    partial = target.with_name(f".{target.name}.{uuid.uuid4().hex}.part")
    size = 0
    handle = await asyncio.to_thread(partial.open, "wb")
    try:
        async for chunk in chunks:
            size += len(chunk)
            if size > max_bytes:
                raise InvalidRequest(f"the upload is larger than {max_bytes} bytes")
            await asyncio.to_thread(handle.write, chunk)
        if size == 0:
            raise InvalidRequest("the upload is empty; send the file as the request body")
    except BaseException:
        handle.close()
        partial.unlink(missing_ok=True)
        raise
    handle.close()
    await asyncio.to_thread(os.replace, partial, target)
    return size


async def stream_file(path: Path, plan: DownloadPlan) -> AsyncIterator[bytes]:
    """The file's bytes in chunks, corrupted, throttled or cut off as `plan` says."""
    limit = plan.cut_at if plan.cut_at is not None else plan.size
    chunk_size = READ_CHUNK_BYTES
    if plan.bytes_per_second is not None:
        chunk_size = max(1024, min(READ_CHUNK_BYTES, plan.bytes_per_second // 10))
    handle = await asyncio.to_thread(path.open, "rb")
    try:
        sent = 0
        while sent < limit:
            chunk = await asyncio.to_thread(handle.read, min(chunk_size, limit - sent))
            if not chunk:
                break
            yield _corrupt(chunk, sent, plan.corrupt_spans)
            sent += len(chunk)
            if plan.bytes_per_second is not None:
                await asyncio.sleep(len(chunk) / plan.bytes_per_second)
    finally:
        handle.close()
    if plan.cut_at is not None:
        log.info("fault: download of %s cut off after %d bytes", path.name, limit)
        raise DownloadCutOff(f"download cut off after {limit} of {plan.size} bytes")


def _corrupt(chunk: bytes, offset: int, spans: tuple[tuple[int, int], ...]) -> bytes:
    end = offset + len(chunk)
    overlapping = [(start, stop) for start, stop in spans if start < end and stop > offset]
    if not overlapping:
        return chunk
    damaged = bytearray(chunk)
    for start, stop in overlapping:
        for position in range(max(start, offset), min(stop, end)):
            damaged[position - offset] ^= CORRUPTION_MASK
    return bytes(damaged)
