"""Connection and header limits enforced by `voicehook web` itself, not left to a proxy.

uvicorn's httptools protocol (the fastest it has) bounds neither the size of a request's
headers nor how long a client may take to send them or its body: one connection streaming
an endless header value froze the event loop, and idle or trickling connections stayed
open until the process ran out of descriptors. `GuardedHttpToolsProtocol` keeps httptools
and adds, per web process:

- a cap on the request line plus headers (`WEB_MAX_HEADER_BYTES`): beyond it, 431 and close;
- a deadline for the headers, counted from the connection's first byte of a request (or its
  opening): beyond it, 408 and close; and one for the whole body, counted from the end of
  the headers (plus a second per `body_min_rate` bytes received): beyond it, 408 and close;
- a bound on open connections (`WEB_MAX_CONNECTIONS`, and never more than the descriptors
  the process may open, less a reserve): a connection beyond it is answered 503 at once and
  closed, so that it costs a descriptor for a moment, not for as long as the client likes.

Deadlines are checked by one timer per process every `REAP_INTERVAL` seconds rather than by
a timer per request: the hot path then only notes the time at each phase change.
"""

from __future__ import annotations

import asyncio
import time
import weakref
from dataclasses import dataclass
from enum import Enum
from typing import Any

import httptools
from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

from receiver.errors import HeadersRefused
from receiver.log_sampling import SampledWarning

REAP_INTERVAL = 0.5
# How long a refused connection stays open for its 503 to reach the client before closing.
REFUSAL_LINGER_SECONDS = 1.0
# Refused connections kept open at once for that; beyond, they are closed at once. Well
# within RESERVED_DESCRIPTORS, which they draw from.
MAX_LINGERING = 16


@dataclass(frozen=True, slots=True)
class EdgeLimits:
    """What a web process allows each connection (picklable: it crosses to uvicorn workers)."""

    max_header_bytes: int = 16 * 1024
    header_timeout: float = 5.0
    body_timeout: float = 10.0
    max_connections: int = 1024
    # The body deadline grows by a second per this many bytes received, so a large upload
    # (a voice clone's samples) at a sane rate gets through while a trickle does not.
    body_min_rate: float = 64 * 1024


# Descriptors kept for everything but client connections: the writer processes' sockets,
# database and Redis connections, log files, the listening socket.
RESERVED_DESCRIPTORS = 64


def connection_bound(configured: int, descriptor_limit: int) -> int:
    """At most `configured` connections, and never so many that the process runs out of
    descriptors (`descriptor_limit`, its RLIMIT_NOFILE) for its own work."""
    return max(1, min(configured, descriptor_limit - RESERVED_DESCRIPTORS))


class Phase(Enum):
    HEADERS = "headers"  # waiting for (the rest of) a request line and headers
    BODY = "body"  # headers done, body not yet complete
    SERVING = "serving"  # the request is the app's, or the connection idles between requests


def _response(status: bytes, body: bytes) -> bytes:
    return (
        b"HTTP/1.1 " + status + b"\r\ncontent-type: application/json\r\n"
        b"content-length: %d\r\nconnection: close\r\n\r\n" % len(body) + body
    )


HEADERS_TOO_LARGE = _response(
    b"431 Request Header Fields Too Large", b'{"error":"headers_too_large"}'
)
REQUEST_TIMEOUT = _response(b"408 Request Timeout", b'{"error":"request_timeout"}')
TOO_MANY_CONNECTIONS = _response(b"503 Service Unavailable", b'{"error":"unavailable"}').replace(
    b"connection: close\r\n", b"connection: close\r\nretry-after: 1\r\n"
)


class _Counter:
    count = 0


_lingering = _Counter()  # refused connections of this process still open
_refused = SampledWarning("web.connection_refused")
_oversized = SampledWarning("web.headers_too_large")
_timed_out = SampledWarning("web.request_timeout")


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with the limits of `EdgeLimits` (module docstring)."""

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
        *,
        limits: EdgeLimits,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self._limits = limits
        self._phase = Phase.HEADERS
        self._since = 0.0
        self._header_bytes = 0
        self._body_bytes = 0
        self._refused = False

    # Connection lifetime

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        if len(self.connections) >= self._limits.max_connections:
            self._refuse(transport)
            return
        super().connection_made(transport)
        self._since = time.monotonic()
        _reaper_for(self.server_state, self.loop).watch()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._refused:
            return
        super().connection_lost(exc)

    def _refuse(self, transport: asyncio.Transport) -> None:
        self._refused = True
        self.transport = transport
        peer = transport.get_extra_info("peername")
        _refused.warn(
            limit=self._limits.max_connections, client=peer[0] if isinstance(peer, tuple) else None
        )
        transport.write(TOO_MANY_CONNECTIONS)
        if _lingering.count >= MAX_LINGERING:
            # Closing at once frees the descriptor (the answer still goes out first, but a
            # client that had already sent its request may see a reset instead).
            transport.close()
            return
        # Half-close so that the answer is read before the close; whatever the client sends
        # meanwhile is dropped.
        _lingering.count += 1
        if transport.can_write_eof():
            transport.write_eof()
        self.loop.call_later(REFUSAL_LINGER_SECONDS, self._end_refusal, transport)

    @staticmethod
    def _end_refusal(transport: asyncio.Transport) -> None:
        _lingering.count -= 1
        transport.close()

    # Bytes and parser callbacks

    def data_received(self, data: bytes) -> None:
        # uvicorn's, plus the count of header bytes (headers completed within `data` are
        # measured exactly in `on_headers_complete`).
        if self._refused:
            return
        self._unset_keepalive_if_required()
        before = self._phase
        if before is Phase.HEADERS:
            self._header_bytes += len(data)
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            if self._should_upgrade():
                self.handle_websocket_upgrade()
            else:
                self._unsupported_upgrade_warning()
            return
        except httptools.HttpParserError:
            if not self.transport.is_closing():  # not one we refused ourselves
                self.logger.warning("Invalid HTTP request received.")
                self.send_400_response("Invalid HTTP request received.")
            return
        if self._phase is Phase.HEADERS and not self.transport.is_closing():
            if before is not Phase.HEADERS:
                self._header_bytes = len(data)  # a request began in this chunk
            if self._header_bytes > self._limits.max_header_bytes:
                self._refuse_headers()

    def _refuse_headers(self) -> None:
        _oversized.warn(limit=self._limits.max_header_bytes, client=self._client_host())
        self._close_with(HEADERS_TOO_LARGE)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self._phase is not Phase.HEADERS:
            self._phase = Phase.HEADERS
            self._since = time.monotonic()

    def on_headers_complete(self) -> None:
        if self._header_bytes > self._limits.max_header_bytes and self._measured_headers() > (
            self._limits.max_header_bytes
        ):
            self._refuse_headers()
            # Stops the parser (it would hand the body to a request that has no cycle);
            # `data_received` sees the transport closing and adds nothing.
            raise HeadersRefused
        self._phase = Phase.BODY
        self._since = time.monotonic()
        self._header_bytes = self._body_bytes = 0
        super().on_headers_complete()

    def on_body(self, body: bytes) -> None:
        self._body_bytes += len(body)
        super().on_body(body)

    def on_message_complete(self) -> None:
        self._phase = Phase.SERVING
        super().on_message_complete()

    def _measured_headers(self) -> int:
        """The request line and headers as sent, near enough (CRLFs and separators)."""
        return len(self.url) + 16 + sum(len(name) + len(value) + 4 for name, value in self.headers)

    # Deadlines

    def overdue(self, now: float) -> bool:
        """Whether this connection's headers or body are late at `now`."""
        if self._phase is Phase.HEADERS:
            return now - self._since > self._limits.header_timeout
        if self._phase is Phase.BODY:
            allowed = self._limits.body_timeout + self._body_bytes / self._limits.body_min_rate
            return now - self._since > allowed
        return False

    def time_out(self) -> None:
        """Answer 408 (unless a response has begun) and close."""
        _timed_out.warn(phase=self._phase.value, client=self._client_host())
        cycle = self.cycle
        if self._phase is Phase.BODY and cycle is not None:
            if cycle.response_started:
                self.transport.close()
                return
            # The app waits for the rest of the body: it is told the client left, and any
            # answer it still tries to send is dropped.
            cycle.disconnected = True
            cycle.message_event.set()
        self._close_with(REQUEST_TIMEOUT)

    def _close_with(self, response: bytes) -> None:
        self._phase = Phase.SERVING
        if not self.transport.is_closing():
            self.transport.write(response)
            self.transport.close()

    def _client_host(self) -> str | None:
        return self.client[0] if self.client else None


class _Reaper:
    """One periodic check per server of every connection's deadline."""

    def __init__(self, server_state: ServerState, loop: asyncio.AbstractEventLoop) -> None:
        self._connections = server_state.connections
        self._loop = loop
        self._scheduled = False

    def watch(self) -> None:
        if not self._scheduled:
            self._scheduled = True
            self._loop.call_later(REAP_INTERVAL, self._reap)

    def _reap(self) -> None:
        now = time.monotonic()
        late = [
            connection
            for connection in self._connections
            if isinstance(connection, GuardedHttpToolsProtocol) and connection.overdue(now)
        ]
        for connection in late:
            connection.time_out()
        self._scheduled = False
        if self._connections:
            self.watch()


_REAPERS: weakref.WeakKeyDictionary[ServerState, _Reaper] = weakref.WeakKeyDictionary()


def _reaper_for(server_state: ServerState, loop: asyncio.AbstractEventLoop) -> _Reaper:
    reaper = _REAPERS.get(server_state)
    if reaper is None:
        reaper = _REAPERS[server_state] = _Reaper(server_state, loop)
    return reaper
