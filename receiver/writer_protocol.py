"""How the receiver talks to its writer processes: length-prefixed pickles over a socket pair.

Both ends are this codebase, and the socket pair is private to a parent and the child it
started, so pickle is safe here. Deliveries travel as `IncomingRow` tuples, which pickle several
times faster than the dataclasses they come from.

Receiver to writer: `Settings` once, then a stream of batches, each a list of `IncomingRow`s
(or, when traces are on, a `TracedBatch`), sent without waiting for answers. Closing the
socket asks the writer to finish and exit. Writer to receiver: `Ready`, then `Committed` or
`Failed` for the next `batches` batches, in order (the writer commits whatever batches are
waiting in one transaction), and `EnqueueFailed` whenever the broker refused events it had
committed.
"""

from __future__ import annotations

import pickle
import select
import socket
import struct
from dataclasses import dataclass

from receiver.errors import WriterGone
from records.event_store import IncomingRow, Outcome

_HEADER = struct.Struct("!I")
WireOutcome = tuple[str, bool, str]


@dataclass(frozen=True, slots=True)
class Ready:
    pid: int


@dataclass(frozen=True, slots=True)
class TracedBatch:
    rows: list[IncomingRow]
    traces: dict[str, str]  # event id → the `traceparent` of the request that delivered it


@dataclass(frozen=True, slots=True)
class Committed:
    batches: int
    outcomes: list[WireOutcome]  # of those batches' deliveries, in order


@dataclass(frozen=True, slots=True)
class Failed:
    batches: int
    error: str


@dataclass(frozen=True, slots=True)
class EnqueueFailed:
    events: int


def outcomes_to_wire(outcomes: list[Outcome]) -> list[WireOutcome]:
    return [tuple(outcome) for outcome in outcomes]  # type: ignore[misc]


def outcomes_from_wire(wire: list[WireOutcome]) -> list[Outcome]:
    return list(map(Outcome._make, wire))


def frame(message: object) -> bytes:
    payload = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    return _HEADER.pack(len(payload)) + payload


def send(sock: socket.socket, message: object) -> None:
    sock.sendall(frame(message))


def receive(sock: socket.socket, timeout: float | None = None) -> object | None:
    """The next message; None if none began within `timeout`; WriterGone at end of stream."""
    if timeout is not None:
        readable, _, _ = select.select([sock], [], [], timeout)
        if not readable:
            return None
    (size,) = _HEADER.unpack(_receive_exactly(sock, _HEADER.size))
    message: object = pickle.loads(_receive_exactly(sock, size))  # noqa: S301 - see above
    return message


class FrameDecoder:
    """Splits a byte stream into messages, however the bytes arrive (for the asyncio side)."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[object]:
        """The messages `data` completes, in order."""
        self._buffer += data
        messages: list[object] = []
        start = 0
        while len(self._buffer) - start >= _HEADER.size:
            (size,) = _HEADER.unpack_from(self._buffer, start)
            end = start + _HEADER.size + size
            if len(self._buffer) < end:
                break
            payload = memoryview(self._buffer)[start + _HEADER.size : end]
            messages.append(pickle.loads(payload))  # noqa: S301 - see above
            payload.release()
            start = end
        if start:
            del self._buffer[:start]
        return messages


def _receive_exactly(sock: socket.socket, size: int) -> bytes:
    buffer = bytearray(size)
    view = memoryview(buffer)
    received = 0
    while received < size:
        count = sock.recv_into(view[received:])
        if count == 0:
            raise WriterGone("the writer socket closed")
        received += count
    return bytes(buffer)
