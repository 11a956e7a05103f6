"""A round trip through a store (write, read back, delete a probe object), for `doctor`."""

from __future__ import annotations

import hashlib
import secrets
import tempfile
from pathlib import Path

from storage.errors import ChecksumMismatch, ObjectStoreError
from storage.protocol import ObjectStore

PROBE_FOLDER = ".voicehook-probe"


def probe_store(store: ObjectStore, scratch: Path) -> None:
    """Put, read and delete a small object; an ObjectStoreError says which step failed."""
    content = secrets.token_bytes(64)
    key = f"{PROBE_FOLDER}/{secrets.token_hex(8)}"
    scratch.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=scratch, prefix=".probe-", delete=False) as file:
        file.write(content)
    source = Path(file.name)
    try:
        store.put(key, source, sha256=hashlib.sha256(content).hexdigest())
    finally:
        source.unlink(missing_ok=True)
    with store.open(key) as chunks:
        read = b"".join(chunks)
    if read != content:
        raise ChecksumMismatch(f"the probe object read back from {store.name} differs")
    store.delete(key)
    if store.stat(key) is not None:
        raise ObjectStoreError(f"the probe object {key} is still in {store.name} after delete")
