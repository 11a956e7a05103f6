"""Fixtures of a real S3 server (moto's, in its own process) and a bucket per test."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from bench.throwaway_s3 import ACCESS_KEY_ID, REGION, SECRET_ACCESS_KEY, ThrowawayS3, throwaway_s3
from config.settings import Settings
from storage.build import open_store, s3_client
from storage.s3 import S3Store


def s3_settings(server: ThrowawayS3, bucket: str, **overrides: object) -> Settings:
    """Settings naming `bucket` on `server` (plus `overrides`), and nothing else of the app."""
    values: dict[str, object] = {
        "storage_url": f"s3://{bucket}/audio",
        "s3_endpoint_url": server.endpoint_url,
        "aws_access_key_id": ACCESS_KEY_ID,
        "aws_secret_access_key": SECRET_ACCESS_KEY,
        "aws_region": REGION,
        "storage_timeout_seconds": 10,
    }
    values.update(overrides)
    return Settings.model_validate(values)


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThrowawayS3]:
    """One moto_server process per test process (xdist worker), on a free loopback port."""
    log = tmp_path_factory.mktemp("moto") / "moto.log"
    with throwaway_s3(log) as server:
        yield server


@pytest.fixture
def bucket(s3_server: ThrowawayS3) -> str:
    """A new, empty bucket on the test process's S3 server."""
    name = f"vh-{uuid.uuid4().hex[:20]}"
    s3_client(s3_settings(s3_server, name)).create_bucket(Bucket=name)
    return name


@pytest.fixture
def s3_store(s3_server: ThrowawayS3, bucket: str) -> S3Store:
    store = open_store(s3_settings(s3_server, bucket))
    assert isinstance(store, S3Store)
    return store


def bucket_objects(server: ThrowawayS3, bucket: str) -> dict[str, Any]:
    """Every object in `bucket`: its key and size (what a test reads back, not our code)."""
    client = s3_client(s3_settings(server, bucket))
    listed = client.list_objects_v2(Bucket=bucket).get("Contents", [])
    return {str(item["Key"]): int(item["Size"]) for item in listed}
