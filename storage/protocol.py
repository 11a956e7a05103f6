"""The seam every file of the service goes through: what a store can do, nothing more."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

SHA256_METADATA = "sha256"
DURATION_METADATA = "duration"  # seconds (a repr of the float), of audio we verified


@dataclass(frozen=True)
class StoredObject:
    """What a store knows of an object: its size, and the metadata it was put with."""

    size: int
    metadata: Mapping[str, str] = field(default_factory=dict)

    @property
    def sha256(self) -> str | None:
        return self.metadata.get(SHA256_METADATA)


def duration_metadata(duration_sec: float | None) -> dict[str, str]:
    """The metadata that carries a verified duration (none when it is not known)."""
    return {} if duration_sec is None else {DURATION_METADATA: repr(duration_sec)}


class ObjectStore(Protocol):
    """A place for verified files, by key. Every method may raise an `ObjectStoreError`."""

    @property
    def name(self) -> str:
        """What the records say the store is: `local`, or `s3://bucket/prefix`."""
        ...

    def put(
        self,
        key: str,
        source: Path,
        *,
        sha256: str,
        media_type: str = "application/octet-stream",
        metadata: Mapping[str, str] | None = None,
    ) -> None:
        """Store the verified local file `source` (whose content has this sha256) under `key`.

        All or nothing: no reader sees a partial object, and what the store ends up holding
        is checked against `sha256`. `source` is consumed: moved, or left for the caller to
        delete.
        """
        ...

    def open(
        self, key: str, start: int = 0, stop: int | None = None
    ) -> AbstractContextManager[Iterator[bytes]]:
        """The object's bytes `[start, stop)` as chunks of bounded size, closed on exit."""
        ...

    def url(self, key: str, *, lifetime_seconds: int, media_type: str) -> str | None:
        """A link that serves the object for `lifetime_seconds`, or None (serve it yourself)."""
        ...

    def local_path(self, key: str) -> Path | None:
        """The object as a file of this machine, when the store is one (else None)."""
        ...

    def stat(self, key: str) -> StoredObject | None:
        """Whether the object exists (None if not), its size and metadata."""
        ...

    def keys(self, prefix: str) -> list[str]:
        """The keys under `prefix`, sorted."""
        ...

    def delete(self, key: str) -> None:
        """Remove the object; removing one that is not there is not an error."""
        ...
