"""The S3-compatible store (AWS S3, Cloudflare R2, Backblaze B2, MinIO, Tigris …), by boto3.

A put sends the file with its sha256 for the store to check: one `PutObject` carrying
`x-amz-checksum-sha256` up to `part_bytes`, a multipart upload above it, each part with its
own sha256 and the whole file hashed again on the way (so a file changed since it was
verified is refused). Memory holds one part at a time. An upload killed half way leaves an
incomplete multipart upload, which no reader sees as an object (a bucket lifecycle rule
aborts old ones); the same key on the next try makes the retry idempotent.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from storage.errors import ChecksumMismatch, ObjectMissing
from storage.keys import BucketLocation
from storage.protocol import SHA256_METADATA, StoredObject
from storage.s3_errors import client_error_code, translate

PART_BYTES = 8 * 1024 * 1024  # S3's smallest part is 5 MiB; one part is held in memory
CHUNK_BYTES = 64 * 1024
S3_ERRORS = (BotoCoreError, ClientError)


def b64_sha256(digest: bytes) -> str:
    """A sha256 digest as S3's `x-amz-checksum-sha256` header carries it."""
    return base64.b64encode(digest).decode("ascii")


def composite_sha256(part_digests: list[bytes]) -> str:
    """The checksum S3 reports for a multipart object: sha256 of the parts' digests, `-N`."""
    return f"{b64_sha256(hashlib.sha256(b''.join(part_digests)).digest())}-{len(part_digests)}"


class S3Store:
    """Objects in `location.bucket` under `location.prefix`, through a boto3 S3 client."""

    def __init__(self, client: Any, location: BucketLocation, part_bytes: int = PART_BYTES) -> None:
        self._client = client
        self.location = location
        self._part_bytes = part_bytes

    @property
    def name(self) -> str:
        return self.location.url

    def put(
        self,
        key: str,
        source: Path,
        *,
        sha256: str,
        media_type: str = "application/octet-stream",
        metadata: Mapping[str, str] | None = None,
    ) -> None:
        extra = {
            "Bucket": self.location.bucket,
            "Key": self.location.object_name(key),
            "ContentType": media_type,
            "Metadata": {**(metadata or {}), SHA256_METADATA: sha256},
        }
        try:
            if source.stat().st_size <= self._part_bytes:
                self._put_single(source, sha256, extra)
            else:
                self._put_multipart(source, sha256, extra)
        except S3_ERRORS as exc:
            raise translate(exc, self.location.bucket, f"uploading {key}") from exc

    def _put_single(self, source: Path, sha256: str, extra: dict[str, Any]) -> None:
        # Below one part: read once (memory holds a part anyway), checked here and by the store.
        body = source.read_bytes()
        if hashlib.sha256(body).hexdigest() != sha256:
            raise ChecksumMismatch(f"{source} changed since it was verified; not uploaded")
        expected = b64_sha256(bytes.fromhex(sha256))
        answer = self._client.put_object(Body=body, ChecksumSHA256=expected, **extra)
        _check_reported(answer, expected, extra["Key"])

    def _put_multipart(self, source: Path, sha256: str, extra: dict[str, Any]) -> None:
        names = {"Bucket": extra["Bucket"], "Key": extra["Key"]}
        upload_id = self._client.create_multipart_upload(ChecksumAlgorithm="SHA256", **extra)[
            "UploadId"
        ]
        completed = False
        try:
            parts, digests = self._upload_parts(source, sha256, names, upload_id)
            answer = self._client.complete_multipart_upload(
                UploadId=upload_id, MultipartUpload={"Parts": parts}, **names
            )
            completed = True
            _check_reported(answer, composite_sha256(digests), extra["Key"])
        except BaseException:
            if completed:
                self._client.delete_object(**names)
            else:
                with contextlib.suppress(*S3_ERRORS):
                    self._client.abort_multipart_upload(UploadId=upload_id, **names)
            raise

    def _upload_parts(
        self, source: Path, sha256: str, names: dict[str, str], upload_id: str
    ) -> tuple[list[dict[str, Any]], list[bytes]]:
        whole = hashlib.sha256()
        parts: list[dict[str, Any]] = []
        digests: list[bytes] = []
        with source.open("rb") as file:
            while chunk := file.read(self._part_bytes):
                whole.update(chunk)
                digest = hashlib.sha256(chunk).digest()
                number = len(parts) + 1
                answer = self._client.upload_part(
                    UploadId=upload_id,
                    PartNumber=number,
                    Body=chunk,
                    ChecksumSHA256=b64_sha256(digest),
                    **names,
                )
                del chunk
                parts.append(
                    {
                        "ETag": answer["ETag"],
                        "PartNumber": number,
                        "ChecksumSHA256": b64_sha256(digest),
                    }
                )
                digests.append(digest)
        if whole.hexdigest() != sha256:
            raise ChecksumMismatch(f"{source} changed since it was verified; not uploaded")
        return parts, digests

    @contextlib.contextmanager
    def open(self, key: str, start: int = 0, stop: int | None = None) -> Iterator[Iterator[bytes]]:
        request = {"Bucket": self.location.bucket, "Key": self.location.object_name(key)}
        if start or stop is not None:
            request["Range"] = f"bytes={start}-{'' if stop is None else stop - 1}"
        try:
            body = self._client.get_object(**request)["Body"]
        except ClientError as exc:
            if client_error_code(exc)[0] in ("NoSuchKey", "404"):
                raise ObjectMissing(f"{key} is not in {self.name}") from exc
            raise translate(exc, self.location.bucket, f"reading {key}") from exc
        except BotoCoreError as exc:
            raise translate(exc, self.location.bucket, f"reading {key}") from exc
        try:
            yield self._chunks(body, key)
        finally:
            body.close()

    def _chunks(self, body: Any, key: str) -> Iterator[bytes]:
        try:
            yield from body.iter_chunks(CHUNK_BYTES)
        except S3_ERRORS as exc:
            raise translate(exc, self.location.bucket, f"reading {key}") from exc

    def url(self, key: str, *, lifetime_seconds: int, media_type: str) -> str | None:
        params = {
            "Bucket": self.location.bucket,
            "Key": self.location.object_name(key),
            "ResponseContentType": media_type,
        }
        try:
            url: str = self._client.generate_presigned_url(
                "get_object", Params=params, ExpiresIn=lifetime_seconds
            )
        except S3_ERRORS as exc:
            raise translate(exc, self.location.bucket, f"signing a link to {key}") from exc
        return url

    def local_path(self, key: str) -> Path | None:
        del key
        return None

    def stat(self, key: str) -> StoredObject | None:
        try:
            answer = self._client.head_object(
                Bucket=self.location.bucket, Key=self.location.object_name(key)
            )
        except ClientError as exc:
            if client_error_code(exc)[0] in ("404", "NoSuchKey", "NotFound"):
                return None
            raise translate(exc, self.location.bucket, f"looking up {key}") from exc
        except BotoCoreError as exc:
            raise translate(exc, self.location.bucket, f"looking up {key}") from exc
        return StoredObject(size=int(answer["ContentLength"]), metadata=dict(answer["Metadata"]))

    def keys(self, prefix: str) -> list[str]:
        full = self.location.object_name(prefix.rstrip("/")) + "/"
        strip = len(self.location.prefix) + 1 if self.location.prefix else 0
        found: list[str] = []
        try:
            pages = self._client.get_paginator("list_objects_v2").paginate(
                Bucket=self.location.bucket, Prefix=full
            )
            for page in pages:
                found.extend(str(item["Key"])[strip:] for item in page.get("Contents", []))
        except S3_ERRORS as exc:
            raise translate(exc, self.location.bucket, f"listing {prefix}") from exc
        return sorted(found)

    def delete(self, key: str) -> None:
        try:
            self._client.delete_object(
                Bucket=self.location.bucket, Key=self.location.object_name(key)
            )
        except S3_ERRORS as exc:
            raise translate(exc, self.location.bucket, f"deleting {key}") from exc


def _check_reported(answer: Mapping[str, Any], expected: str, name: str) -> None:
    """The store's own checksum of what it now holds, when it reports one, must be ours."""
    reported = answer.get("ChecksumSHA256")
    if reported and reported != expected:
        raise ChecksumMismatch(f"the store holds {name} with checksum {reported}, not {expected}")
