"""Errors of the object stores. Imports nothing internal but the root error.

The database's own `config.errors.StorageUnavailable` is a different thing: these are about
the files (a folder or a bucket), never about the records.
"""

from __future__ import annotations

from config.errors import VoicehookError


class ObjectStoreError(VoicehookError):
    """Raised when the object store cannot do what was asked; the base of this package."""


class InvalidStorageUrl(ObjectStoreError):
    """Raised when `STORAGE_URL` (or `--to`) is not `s3://bucket[/prefix]`."""


class InvalidObjectKey(ObjectStoreError):
    """Raised when a key is empty, absolute, or climbs out of the store (`..`)."""


class StoreUnreachable(ObjectStoreError):
    """Raised when the store did not answer (network, timeout, 5xx): time may fix it."""


class StoreRefused(ObjectStoreError):
    """Raised when the store refused (credentials, bucket, clock, permissions): config fixes it."""


class ChecksumMismatch(ObjectStoreError):
    """Raised when what the store holds (or was sent) is not the sha256 that was verified."""


class ObjectMissing(ObjectStoreError):
    """Raised when an object that the records say exists is not in the store."""
