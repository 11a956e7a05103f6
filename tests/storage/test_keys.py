"""The pure naming of stores and objects."""

from __future__ import annotations

import pytest

from storage.errors import InvalidObjectKey, InvalidStorageUrl
from storage.keys import (
    BucketLocation,
    checked_key,
    job_audio_key,
    media_type,
    parse_storage_url,
    sample_key,
    samples_prefix,
)


class TestParseStorageUrl:
    def test_bucket_and_prefix(self) -> None:
        """`s3://bucket/some/prefix/` is the bucket and the prefix without end slashes."""
        assert parse_storage_url("s3://my-bucket/some/prefix/") == BucketLocation(
            "my-bucket", "some/prefix"
        )
        assert parse_storage_url("s3://my.bucket") == BucketLocation("my.bucket", "")

    @pytest.mark.parametrize(
        "url",
        [
            "https://bucket/x",
            "s3://",
            "s3://ab",
            "s3://Upper/x",
            "s3://key:secret@bucket/x",
            "s3://bucket/x?region=eu",
            "s3://bucket/../x",
        ],
    )
    def test_refuses_what_is_not_a_bucket_url(self, url: str) -> None:
        """Other schemes, bad bucket names, credentials or queries in the URL are refused."""
        with pytest.raises(InvalidStorageUrl if ".." not in url else InvalidObjectKey):
            parse_storage_url(url)

    def test_the_url_and_object_names(self) -> None:
        """The store's name has no endpoint; object names sit under the prefix."""
        location = parse_storage_url("s3://b-1/audio")
        assert location.url == "s3://b-1/audio"
        assert location.object_name("c/j.wav") == "audio/c/j.wav"
        assert BucketLocation("b-1", "").object_name("c/j.wav") == "c/j.wav"


class TestKeys:
    @pytest.mark.parametrize("key", ["", "/abs", "a/../b", "a//b", "./a", "a\\b"])
    def test_keys_stay_inside_the_store(self, key: str) -> None:
        """Absolute, empty, climbing or backslashed keys are refused."""
        with pytest.raises(InvalidObjectKey):
            checked_key(key)

    def test_job_and_sample_keys(self) -> None:
        """One folder per customer (untracked apart); samples numbered in upload order."""
        assert job_audio_key("cust", "job", "wav") == "cust/job.wav"
        assert job_audio_key(None, "job", "mp3") == "untracked/job.mp3"
        assert samples_prefix("v1") == "_samples/v1/"
        assert sample_key("v1", 2, "take.wav") == "_samples/v1/02-take.wav"

    def test_media_types(self) -> None:
        assert media_type("mp3") == "audio/mpeg"
        assert media_type("wav") == "audio/wav"
        assert media_type("flac") == "application/octet-stream"
