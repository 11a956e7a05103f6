"""A real HTTP file server for download tests: a Starlette app under uvicorn on a thread.

Each path is given a `Behaviour` (normal, truncated, slow, a status, a redirect, a huge
declared length, a large body generated on the fly); the server records every request's
headers so tests can check what a client sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import struct
import threading
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from sandbox.server import bind_socket, serve_in_thread

CHUNK_SIZE = 64 * 1024
WAV_SAMPLE_RATE = 22050
WAV_HEADER_LENGTH = 44


@dataclass(frozen=True)
class Behaviour:
    """How a path answers: a status, headers, a body made chunk by chunk on each request."""

    status: int = 200
    headers: Mapping[str, str] = field(default_factory=dict)
    body: Callable[[], Iterable[bytes]] = tuple
    delay: float = 0.0  # seconds to wait before every chunk after the first


@dataclass(frozen=True)
class Seen:
    """One request the server received."""

    path: str
    headers: Mapping[str, str]


def normal(data: bytes, chunk_size: int = CHUNK_SIZE) -> Behaviour:
    """200 with the right Content-Length and the whole body."""
    return Behaviour(headers=_length(len(data)), body=lambda: _slices(data, chunk_size))


def chunked(data: bytes, chunk_size: int = CHUNK_SIZE) -> Behaviour:
    """200 with chunked transfer encoding: no Content-Length at all."""
    return Behaviour(body=lambda: _slices(data, chunk_size))


def truncated(data: bytes, keep: int) -> Behaviour:
    """Declares the whole of `data`, sends only its first `keep` bytes, then closes."""
    return Behaviour(headers=_length(len(data)), body=lambda: _slices(data[:keep], CHUNK_SIZE))


def slow(data: bytes, chunk_size: int, delay: float) -> Behaviour:
    """The whole body, `chunk_size` bytes at a time with `delay` seconds between chunks."""
    return Behaviour(
        headers=_length(len(data)), body=lambda: _slices(data, chunk_size), delay=delay
    )


def status(code: int) -> Behaviour:
    """An error status with a small JSON body."""
    body = b'{"error": "status %d"}' % code
    return Behaviour(
        status=code,
        headers={**_length(len(body)), "content-type": "application/json"},
        body=lambda: (body,),
    )


def redirect(location: str, code: int = 302) -> Behaviour:
    """A redirect to `location`."""
    return Behaviour(status=code, headers={"location": location, **_length(0)})


def huge_declared(length: int) -> Behaviour:
    """Declares `length` bytes, sends a little, then closes."""
    return Behaviour(headers=_length(length), body=lambda: (bytes(CHUNK_SIZE),))


def streamed_wav(total_bytes: int, chunk_size: int = 1024 * 1024) -> Behaviour:
    """A valid mono 16-bit wav of exactly `total_bytes`, made on the fly, never held whole."""
    return Behaviour(headers=_length(total_bytes), body=lambda: wav_chunks(total_bytes, chunk_size))


def wav_chunks(total_bytes: int, chunk_size: int = 1024 * 1024) -> Iterator[bytes]:
    """The bytes of `streamed_wav`: a header, then one second of a tone repeated and cut."""
    data_size = total_bytes - WAV_HEADER_LENGTH
    if data_size < 0 or data_size % 2:
        raise ValueError("a 16-bit wav needs a header and an even number of data bytes")
    yield wav_header(data_size)
    second = b"".join(
        struct.pack("<h", int(8000 * math.sin(2 * math.pi * 440 * i / WAV_SAMPLE_RATE)))
        for i in range(WAV_SAMPLE_RATE)
    )
    block = second * max(1, chunk_size // len(second))
    remaining = data_size
    while remaining:
        piece = block[: min(remaining, len(block))]
        remaining -= len(piece)
        yield piece


def wav_header(data_size: int, sample_rate: int = WAV_SAMPLE_RATE) -> bytes:
    """The 44-byte header of a mono 16-bit PCM wav holding `data_size` bytes of samples."""
    return struct.pack(
        "<4sI4s4sIHHIIHH4sI",
        b"RIFF",
        36 + data_size,
        b"WAVE",
        b"fmt ",
        16,
        1,  # PCM
        1,  # mono
        sample_rate,
        sample_rate * 2,
        2,
        16,
        b"data",
        data_size,
    )


class FileServer:
    """Serves the behaviours registered with `serve`; 404 for any other path."""

    def __init__(self) -> None:
        self.base_url = ""
        self.host = ""  # "127.0.0.1:<port>", as an allow-list entry
        self._lock = threading.Lock()
        self._behaviours: dict[str, Behaviour] = {}
        self._seen: list[Seen] = []
        self.app = Starlette(routes=[Route("/{path:path}", self._answer, methods=["GET"])])

    def serve(self, path: str, behaviour: Behaviour) -> str:
        """Answer GET `path` with `behaviour` from now on; the absolute URL to fetch it."""
        with self._lock:
            self._behaviours[path] = behaviour
        return self.base_url + path

    def seen(self, path: str) -> list[Seen]:
        """The requests received for `path`, oldest first."""
        with self._lock:
            return [seen for seen in self._seen if seen.path == path]

    async def _answer(self, request: Request) -> Response:
        path = request.url.path
        with self._lock:
            self._seen.append(Seen(path, dict(request.headers.items())))
            behaviour = self._behaviours.get(path)
        if behaviour is None:
            return Response(status_code=404)
        return StreamingResponse(
            _paced(behaviour),
            status_code=behaviour.status,
            headers=dict(behaviour.headers),
            media_type="application/octet-stream",
        )


@contextlib.contextmanager
def running_file_server() -> Iterator[FileServer]:
    """A `FileServer` on a free 127.0.0.1 port until the block ends."""
    server = FileServer()
    with contextlib.closing(bind_socket("127.0.0.1", 0)) as sock:
        port = sock.getsockname()[1]
        server.host = f"127.0.0.1:{port}"
        server.base_url = f"http://{server.host}"
        with serve_in_thread(server.app, sock):
            yield server


async def _paced(behaviour: Behaviour) -> AsyncIterator[bytes]:
    for index, chunk in enumerate(behaviour.body()):
        if index and behaviour.delay:
            await asyncio.sleep(behaviour.delay)
        yield chunk


def _slices(data: bytes, size: int) -> Iterator[bytes]:
    view = memoryview(data)
    for start in range(0, len(data), size):
        yield bytes(view[start : start + size])


def _length(length: int) -> dict[str, str]:
    return {"content-length": str(length)}
