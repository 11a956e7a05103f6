"""Captured deliveries on disk: the export format, and reading what `replay` is given.

A capture document is one JSON object per delivery:

    {"deliveryId", "eventId", "eventType", "receivedAt", "remoteAddr", "duplicate",
     "headers": {...}, "body": "<text>", "bodyEncoding": "utf-8" | "base64"}

`body` holds the bytes exactly as received: as text when they are valid UTF-8 (so a person
can read and edit them), else base64. `export` writes one such file per delivery into a
directory, or one per line into a JSONL file; `replay` reads either, and also *bare* body
files, which hold just the bytes to send (no capture envelope, so no captured signature).
"""

from __future__ import annotations

import base64
import binascii
import os
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO, TypeGuard

import orjson

from config.signing import SIGNATURE_HEADER
from voicehook.errors import CaptureError

UTF8 = "utf-8"
BASE64 = "base64"
JSONL_SUFFIXES = frozenset({".jsonl", ".ndjson"})
CAPTURE_SUFFIXES = JSONL_SUFFIXES | {".json"}


@dataclass(frozen=True, slots=True)
class Capture:
    """One delivery to send again: its exact bytes, and what was captured with them."""

    body: bytes
    source: str
    headers: dict[str, str] = field(default_factory=dict)
    delivery_id: int | None = None
    event_id: str | None = None
    event_type: str | None = None
    received_at: datetime | None = None
    remote_addr: str | None = None
    duplicate: bool = False

    @property
    def signature(self) -> str | None:
        """The captured signature header, if any (header names are matched without case)."""
        wanted = SIGNATURE_HEADER.lower()
        for name, value in self.headers.items():
            if name.lower() == wanted:
                return value
        return None

    @property
    def content_type(self) -> str:
        for name, value in self.headers.items():
            if name.lower() == "content-type":
                return value
        return "application/json"


def encode_body(body: bytes) -> tuple[str, str]:
    """The body as (text, encoding): UTF-8 text when it decodes strictly, else base64."""
    try:
        return body.decode(UTF8), UTF8
    except UnicodeDecodeError:
        return base64.b64encode(body).decode("ascii"), BASE64


def decode_body(text: str, encoding: str) -> bytes:
    """The exact bytes an encoded body stands for; CaptureError when it cannot."""
    if encoding == UTF8:
        return text.encode(UTF8)
    if encoding == BASE64:
        try:
            return base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise CaptureError(f"body is not valid base64: {exc}") from None
    raise CaptureError(f"unknown bodyEncoding {encoding!r} (expected utf-8 or base64)")


def capture_document(capture: Capture) -> dict[str, Any]:
    """The JSON document `export` writes for one delivery."""
    text, encoding = encode_body(capture.body)
    return {
        "deliveryId": capture.delivery_id,
        "eventId": capture.event_id,
        "eventType": capture.event_type,
        "receivedAt": capture.received_at.isoformat() if capture.received_at else None,
        "remoteAddr": capture.remote_addr,
        "duplicate": capture.duplicate,
        "headers": capture.headers,
        "body": text,
        "bodyEncoding": encoding,
    }


def is_capture_document(document: object) -> TypeGuard[dict[str, Any]]:
    """Whether a parsed JSON value is a capture envelope (rather than a bare webhook body)."""
    return isinstance(document, dict) and {"body", "bodyEncoding", "headers"} <= document.keys()


def capture_from_document(document: dict[str, Any], source: str) -> Capture:
    """The capture a document describes; CaptureError (naming `source`) when malformed."""
    body, encoding, headers = document["body"], document["bodyEncoding"], document["headers"]
    if not isinstance(body, str):
        raise CaptureError(f"{source}: `body` is {type(body).__name__}, not text (pruned?)")
    if not isinstance(encoding, str):
        raise CaptureError(f"{source}: `bodyEncoding` must be a string")
    if not isinstance(headers, dict) or not all(isinstance(v, str) for v in headers.values()):
        raise CaptureError(f"{source}: `headers` must be an object of strings")
    try:
        raw = decode_body(body, encoding)
    except CaptureError as exc:
        raise CaptureError(f"{source}: {exc}") from None
    delivery_id = document.get("deliveryId")
    received = document.get("receivedAt")
    return Capture(
        body=raw,
        source=source,
        headers=dict(headers),
        delivery_id=delivery_id if isinstance(delivery_id, int) else None,
        event_id=_text(document.get("eventId")),
        event_type=_text(document.get("eventType")),
        received_at=_instant(received),
        remote_addr=_text(document.get("remoteAddr")),
        duplicate=document.get("duplicate") is True,
    )


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _instant(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def capture_file_name(capture: Capture) -> str:
    """`<received, UTC, to the microsecond>-<delivery id>.json`: names sort in arrival order."""
    stamp = capture.received_at.strftime("%Y%m%dT%H%M%S.%fZ") if capture.received_at else "x"
    return f"{stamp}-{capture.delivery_id or 0:012d}.json"


def write_directory(out: Path, captures: Iterable[Capture]) -> int:
    """One capture file per delivery in `out` (created if needed); how many were written."""
    out.mkdir(parents=True, exist_ok=True)
    count = 0
    for capture in captures:
        with _atomic_file(out / capture_file_name(capture)) as handle:
            handle.write(orjson.dumps(capture_document(capture), option=orjson.OPT_INDENT_2))
            handle.write(b"\n")
        count += 1
    return count


def write_jsonl(out: Path, captures: Iterable[Capture]) -> int:
    """Every capture as one line of the JSONL file `out`; how many were written."""
    out.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with _atomic_file(out) as handle:
        for capture in captures:
            handle.write(orjson.dumps(capture_document(capture)) + b"\n")
            count += 1
    return count


@contextmanager
def _atomic_file(path: Path) -> Iterator[BinaryIO]:
    """Write to a partial file beside `path`, renamed into place only when complete."""
    partial = path.with_name(path.name + ".partial")
    try:
        with partial.open("wb") as handle:
            yield handle
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


def read_captures(paths: Sequence[Path]) -> list[Capture]:
    """Everything to replay from files and directories, in the order given.

    A directory contributes its `.json`, `.jsonl` and `.ndjson` files (recursively, sorted by
    name, which is arrival order for an export). A `.jsonl`/`.ndjson` file is one document a
    line; any other file is one document. A document that is not a capture envelope is a
    bare body: its exact bytes are what gets sent.
    """
    found: list[Capture] = []
    for path in paths:
        if path.is_dir():
            for file in sorted(p for p in path.rglob("*") if p.is_file()):
                if file.suffix.lower() in CAPTURE_SUFFIXES:
                    found.extend(_read_file(file))
        elif path.is_file():
            found.extend(_read_file(path))
        else:
            raise CaptureError(f"{path}: no such file or directory")
    return found


def _read_file(path: Path) -> list[Capture]:
    raw = path.read_bytes()
    if path.suffix.lower() in JSONL_SUFFIXES:
        return [
            _read_document(line.rstrip(b"\r"), f"{path}:{number}")
            for number, line in enumerate(raw.split(b"\n"), start=1)
            if line.strip()
        ]
    return [_read_document(raw, str(path))]


def _read_document(raw: bytes, source: str) -> Capture:
    try:
        document = orjson.loads(raw)
    except orjson.JSONDecodeError:
        document = None  # not JSON at all: still a bare body, the receiver will judge it
    if is_capture_document(document):
        return capture_from_document(document, source)
    return Capture(body=raw, source=source)  # a bare body: nothing captured but the bytes
