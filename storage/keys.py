"""The names of stores and objects, as plain functions over strings (no I/O).

A key is a relative, slash-separated path (`acme-id/job-id.wav`); the local store puts it
under `AUDIO_DIR`, the S3 store under `STORAGE_URL`'s prefix. The same key for the same job
on every try is what makes a retried upload idempotent.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from storage.errors import InvalidObjectKey, InvalidStorageUrl

LOCAL_STORE = "local"  # a job's `audio_store` when its audio lives under AUDIO_DIR
SAMPLES_FOLDER = "_samples"
UNTRACKED_FOLDER = "untracked"
# S3's rule for bucket names (3-63 of lowercase letters, digits, dots and hyphens).
_BUCKET_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789.-")


@dataclass(frozen=True)
class BucketLocation:
    """Where an S3 store keeps its objects: a bucket and a key prefix (no slashes at its ends)."""

    bucket: str
    prefix: str

    @property
    def url(self) -> str:
        """`s3://bucket/prefix`: the store's name in the records (no endpoint, no credentials)."""
        return f"s3://{self.bucket}/{self.prefix}" if self.prefix else f"s3://{self.bucket}"

    def object_name(self, key: str) -> str:
        checked = checked_key(key)
        return f"{self.prefix}/{checked}" if self.prefix else checked


def parse_storage_url(url: str) -> BucketLocation:
    """`s3://bucket/prefix` as a BucketLocation, or InvalidStorageUrl saying what is wrong."""
    parts = urlsplit(url.strip())
    if parts.scheme != "s3":
        raise InvalidStorageUrl(f"STORAGE_URL must look like s3://bucket/prefix, not {url!r}")
    if parts.username or parts.password or parts.query or parts.fragment or parts.port:
        raise InvalidStorageUrl(
            "STORAGE_URL takes only s3://bucket/prefix; credentials go in AWS_ACCESS_KEY_ID "
            "and AWS_SECRET_ACCESS_KEY, the endpoint in S3_ENDPOINT_URL"
        )
    bucket = parts.netloc
    if not 3 <= len(bucket) <= 63 or not set(bucket) <= _BUCKET_CHARS:
        raise InvalidStorageUrl(f"{bucket!r} is not a bucket name (3-63 of a-z, 0-9, '.', '-')")
    prefix = parts.path.strip("/")
    if prefix:
        checked_key(prefix)
    return BucketLocation(bucket=bucket, prefix=prefix)


def checked_key(key: str) -> str:
    """`key` if it is a relative path that stays inside the store."""
    parts = key.split("/")
    if not key or key.startswith("/") or any(p in ("", ".", "..") for p in parts) or "\\" in key:
        raise InvalidObjectKey(f"not a relative object key: {key!r}")
    return key


def job_audio_key(customer_id: str | None, job_id: str, audio_format: str) -> str:
    """A job's audio: one folder per customer, untracked jobs on their own."""
    return checked_key(f"{customer_id or UNTRACKED_FOLDER}/{job_id}.{audio_format}")


def samples_prefix(voice_id: str) -> str:
    """The folder of a voice's samples (with its trailing slash, for listing)."""
    return checked_key(f"{SAMPLES_FOLDER}/{voice_id}") + "/"


def sample_key(voice_id: str, number: int, filename: str) -> str:
    """A voice's `number`th sample, numbered so that listing keeps the upload order."""
    return checked_key(f"{samples_prefix(voice_id)}{number:02d}-{filename}")


MEDIA_TYPES = {"mp3": "audio/mpeg", "wav": "audio/wav"}


def media_type(audio_format: str) -> str:
    """The Content-Type of audio in `audio_format`."""
    return MEDIA_TYPES.get(audio_format, "application/octet-stream")
