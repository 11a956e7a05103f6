"""An object copied through this machine: from one store (or key) to another, checked.

The object is spooled to a private scratch file (the target's `put` may consume the file it
is given), hashed on the way, and put under the new key only when its sha256 is the one the
caller expects; the scratch file is removed whatever happens. Memory holds one chunk.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from storage.errors import ChecksumMismatch
from storage.protocol import ObjectStore


@contextmanager
def spooled(store: ObjectStore, key: str, scratch: Path) -> Iterator[tuple[Path, str]]:
    """The object as a private local file and its sha256, removed on exit."""
    scratch.mkdir(parents=True, exist_ok=True)
    path = scratch / f".copy.{secrets.token_hex(8)}.part"
    digest = hashlib.sha256()
    try:
        with store.open(key) as chunks, path.open("xb") as out:
            for chunk in chunks:
                digest.update(chunk)
                out.write(chunk)
        yield path, digest.hexdigest()
    finally:
        path.unlink(missing_ok=True)


def copy_object(
    source: ObjectStore,
    key: str,
    target: ObjectStore,
    target_key: str,
    scratch: Path,
    *,
    sha256: str | None,
    media_type: str,
    metadata: Mapping[str, str] | None = None,
) -> str:
    """Copy `key` of `source` to `target_key` of `target`; its sha256.

    With `sha256` given, an object whose content is not that is refused (ChecksumMismatch)
    and nothing is put.
    """
    with spooled(source, key, scratch) as (path, actual):
        if sha256 is not None and actual != sha256:
            raise ChecksumMismatch(f"{key} in {source.name} is not the sha256 recorded for it")
        target.put(target_key, path, sha256=actual, media_type=media_type, metadata=metadata)
    return actual
