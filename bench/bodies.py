"""Pre-signed webhook deliveries, written where the wrk script loads them.

Signing cannot happen in stock wrk's Lua, so every body is made and signed here, before the
clock starts. Each wrk thread reads its own file (`1.tsv`, `2.tsv`, ...), one
`<signature>\\t<body>` per line; the resource ids are unique across files and across runs.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import orjson

from config.signing import compute_signature


def webhook_body(resource_id: str, timestamp: str) -> bytes:
    """A `generation.ready` body, as compact JSON (never a tab or a newline in it)."""
    return orjson.dumps(
        {"event": "generation.ready", "timestamp": timestamp, "data": {"id": resource_id}}
    )


def signed_deliveries(
    prefix: str, first: int, count: int, secret: bytes, timestamp: str
) -> Iterator[tuple[str, bytes]]:
    """`count` (signature, body) pairs with resource ids `<prefix>-<first>` onwards."""
    for number in range(first, first + count):
        body = webhook_body(f"{prefix}-{number:09d}", timestamp)
        yield compute_signature(body, secret), body


def write_body_files(
    directory: Path, prefix: str, threads: int, per_thread: int, secret: bytes
) -> Path:
    """Write `threads` files of `per_thread` deliveries each, disjoint, into `directory`."""
    directory.mkdir(parents=True, exist_ok=True)
    timestamp = utc_timestamp(datetime.now(UTC))
    for thread in range(threads):
        deliveries = signed_deliveries(prefix, thread * per_thread, per_thread, secret, timestamp)
        with (directory / f"{thread + 1}.tsv").open("wb") as file:
            file.writelines(f"{sig}\t".encode() + body + b"\n" for sig, body in deliveries)
    return directory


def utc_timestamp(moment: datetime) -> str:
    """The upstream's timestamp format: ISO 8601, milliseconds, `Z`."""
    return (
        moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    )
