"""The local store: files under `AUDIO_DIR`, today's behaviour and the default.

A put is a rename onto the final name (a copy to a partial file first when the source is on
another file system), then an fsync of the folder: a reader sees the whole file or none.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import secrets
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import BinaryIO

from storage.errors import ChecksumMismatch, InvalidObjectKey, ObjectMissing
from storage.keys import LOCAL_STORE, checked_key
from storage.protocol import StoredObject

CHUNK_BYTES = 64 * 1024


class LocalStore:
    """Objects as files under `root`; keys are paths relative to it."""

    def __init__(self, root: Path) -> None:
        self.root = root

    @property
    def name(self) -> str:
        return LOCAL_STORE

    def path(self, key: str) -> Path:
        """The file of `key`, which must stay under the root (no `..`, no symlink out)."""
        path = (self.root / checked_key(key)).resolve()
        if not path.is_relative_to(self.root.resolve()):
            raise InvalidObjectKey(f"{key!r} leads out of {self.root}")
        return path

    def put(
        self,
        key: str,
        source: Path,
        *,
        sha256: str,
        media_type: str = "application/octet-stream",
        metadata: Mapping[str, str] | None = None,
    ) -> None:
        del media_type, metadata  # a file has no such attributes; the records keep them
        final = self.path(key)
        final.parent.mkdir(parents=True, exist_ok=True)
        if source.resolve() == final:
            return
        try:
            os.replace(source, final)
        except OSError as exc:
            if exc.errno != errno.EXDEV:
                raise
            _copy_verified(source, final, sha256)
            source.unlink(missing_ok=True)
        fsync_directory(final.parent)

    @contextlib.contextmanager
    def open(self, key: str, start: int = 0, stop: int | None = None) -> Iterator[Iterator[bytes]]:
        try:
            file = self.path(key).open("rb")
        except FileNotFoundError as exc:
            raise ObjectMissing(f"{key} is not under {self.root}") from exc
        with file:
            file.seek(start)
            yield _chunks(file, None if stop is None else stop - start)

    def url(self, key: str, *, lifetime_seconds: int, media_type: str) -> str | None:
        del key, lifetime_seconds, media_type
        return None

    def local_path(self, key: str) -> Path | None:
        return self.path(key)

    def stat(self, key: str) -> StoredObject | None:
        path = self.path(key)
        try:
            return StoredObject(size=path.stat().st_size) if path.is_file() else None
        except FileNotFoundError:
            return None

    def keys(self, prefix: str) -> list[str]:
        folder = self.path(prefix.rstrip("/"))
        if not folder.is_dir():
            return []
        root = self.root.resolve()
        return sorted(
            str(path.relative_to(root))
            for path in folder.rglob("*")
            if path.is_file() and not path.name.startswith(".")
        )

    def delete(self, key: str) -> None:
        self.path(key).unlink(missing_ok=True)


def _chunks(file: BinaryIO, remaining: int | None) -> Iterator[bytes]:
    read = file.read
    while remaining is None or remaining > 0:
        chunk: bytes = read(CHUNK_BYTES if remaining is None else min(CHUNK_BYTES, remaining))
        if not chunk:
            return
        if remaining is not None:
            remaining -= len(chunk)
        yield chunk


def _copy_verified(source: Path, final: Path, sha256: str) -> None:
    partial = final.with_name(f".{final.name}.{secrets.token_hex(8)}.part")
    digest = hashlib.sha256()
    try:
        with source.open("rb") as src, partial.open("xb") as out:
            for chunk in iter(lambda: src.read(CHUNK_BYTES), b""):
                digest.update(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        if digest.hexdigest() != sha256:
            raise ChecksumMismatch(f"{source} changed since it was verified")
        os.replace(partial, final)
    finally:
        partial.unlink(missing_ok=True)


def file_sha256(path: Path) -> str:
    """The sha256 (hex) of a file's content, read in bounded chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for chunk in iter(lambda: file.read(1024 * 1024), b""):
            digest.update(chunk)
    return digest.hexdigest()


def fsync_directory(directory: Path) -> None:
    """Make a rename in `directory` durable."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
