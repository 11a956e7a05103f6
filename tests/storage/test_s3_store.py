"""The S3 store against a real S3 HTTP server (moto_server in its own process)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import httpx
import pytest

from bench.throwaway_s3 import ThrowawayS3
from storage.build import open_store, s3_client
from storage.errors import ChecksumMismatch, ObjectMissing, StoreRefused, StoreUnreachable
from storage.keys import parse_storage_url
from storage.s3 import S3Store
from tests.services import free_port
from tests.storage_fixtures import bucket_objects, s3_settings

MIB = 1024 * 1024


def write(path: Path, content: bytes) -> str:
    path.write_bytes(content)
    return hashlib.sha256(content).hexdigest()


def read(store: S3Store, key: str, start: int = 0, stop: int | None = None) -> bytes:
    with store.open(key, start, stop) as chunks:
        return b"".join(chunks)


class TestPut:
    def test_small_file_is_one_object_with_its_sha256(
        self, s3_store: S3Store, tmp_path: Path, s3_server: ThrowawayS3, bucket: str
    ) -> None:
        """A file below the part size becomes one object, read back byte for byte."""
        content = os.urandom(100_000)
        sha = write(tmp_path / "a.wav", content)
        s3_store.put("c1/job.wav", tmp_path / "a.wav", sha256=sha, media_type="audio/wav")
        assert read(s3_store, "c1/job.wav") == content
        found = s3_store.stat("c1/job.wav")
        assert found is not None
        assert (found.size, found.sha256) == (len(content), sha)
        assert bucket_objects(s3_server, bucket) == {"audio/c1/job.wav": len(content)}

    def test_large_file_goes_in_parts_and_reads_back_whole(
        self, s3_server: ThrowawayS3, bucket: str, tmp_path: Path
    ) -> None:
        """Above the part size, a multipart upload: the object is the file, nothing else."""
        settings = s3_settings(s3_server, bucket)
        store = S3Store(s3_client(settings), parse_storage_url(f"s3://{bucket}/audio"), 5 * MIB)
        content = os.urandom(11 * MIB + 123)
        sha = write(tmp_path / "big.wav", content)
        store.put("c1/big.wav", tmp_path / "big.wav", sha256=sha, metadata={"duration": "1.5"})
        assert hashlib.sha256(read(store, "c1/big.wav")).hexdigest() == sha
        found = store.stat("c1/big.wav")
        assert found is not None
        assert found.metadata == {"duration": "1.5", "sha256": sha}

    def test_a_file_changed_since_it_was_verified_is_not_uploaded(
        self, s3_store: S3Store, tmp_path: Path
    ) -> None:
        """The sha256 given is what the store checks: other bytes leave no object."""
        write(tmp_path / "a.wav", b"verified bytes")
        (tmp_path / "a.wav").write_bytes(b"other bytes!!!")
        with pytest.raises(ChecksumMismatch):
            s3_store.put(
                "c1/a.wav", tmp_path / "a.wav", sha256=hashlib.sha256(b"verified bytes").hexdigest()
            )
        assert s3_store.stat("c1/a.wav") is None


class TestReads:
    def test_a_range_reads_only_those_bytes(self, s3_store: S3Store, tmp_path: Path) -> None:
        """`open(key, start, stop)` is the bytes [start, stop)."""
        content = bytes(range(256)) * 10
        s3_store.put("k", tmp_path / "f", sha256=write(tmp_path / "f", content))
        assert read(s3_store, "k", 10, 20) == content[10:20]
        assert read(s3_store, "k", 2500) == content[2500:]

    def test_a_missing_object_is_none_or_object_missing(self, s3_store: S3Store) -> None:
        """stat answers None; open says the object is missing."""
        assert s3_store.stat("nope") is None
        with pytest.raises(ObjectMissing), s3_store.open("nope") as chunks:
            b"".join(chunks)

    def test_keys_lists_under_a_prefix_without_the_store_prefix(
        self, s3_store: S3Store, tmp_path: Path
    ) -> None:
        """Keys come back as they were put, sorted, only those under the prefix."""
        for key in ("_samples/v1/02-b.wav", "_samples/v1/01-a.wav", "_samples/v2/01-c.wav"):
            s3_store.put(key, tmp_path / "f", sha256=write(tmp_path / "f", key.encode()))
        assert s3_store.keys("_samples/v1/") == ["_samples/v1/01-a.wav", "_samples/v1/02-b.wav"]

    def test_a_presigned_url_serves_the_object_until_it_expires(
        self, s3_store: S3Store, tmp_path: Path
    ) -> None:
        """The link needs no credentials and carries the media type asked for."""
        s3_store.put("k.wav", tmp_path / "f", sha256=write(tmp_path / "f", b"RIFF...."))
        url = s3_store.url("k.wav", lifetime_seconds=60, media_type="audio/wav")
        assert url is not None
        answer = httpx.get(url, trust_env=False)
        assert answer.status_code == 200
        assert answer.content == b"RIFF...."
        assert answer.headers["content-type"] == "audio/wav"

    def test_delete_removes_and_tolerates_absence(self, s3_store: S3Store, tmp_path: Path) -> None:
        s3_store.put("k", tmp_path / "f", sha256=write(tmp_path / "f", b"x"))
        s3_store.delete("k")
        s3_store.delete("k")
        assert s3_store.stat("k") is None


class TestFailures:
    def test_no_bucket_is_said_plainly(self, s3_server: ThrowawayS3, tmp_path: Path) -> None:
        """A bucket that does not exist is a refusal naming it."""
        store = open_store(s3_settings(s3_server, "no-such-bucket-here"))
        with pytest.raises(StoreRefused, match="no-such-bucket-here does not exist"):
            store.put("k", tmp_path / "f", sha256=write(tmp_path / "f", b"x"))

    def test_an_unreachable_endpoint_is_unreachable(self, tmp_path: Path) -> None:
        """Nothing listening: StoreUnreachable, which time may fix."""
        settings = s3_settings(
            ThrowawayS3(f"http://127.0.0.1:{free_port()}", None),  # type: ignore[arg-type]
            "some-bucket",
            storage_timeout_seconds=2,
        )
        with pytest.raises(StoreUnreachable):
            open_store(settings).stat("k")
