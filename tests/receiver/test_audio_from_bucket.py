"""`GET /api/jobs/{id}/audio` with the S3 store: a presigned redirect, or the bytes streamed
through (with Range), and plain words when the bucket lost the object or retention pruned it."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine, update
from starlette.testclient import TestClient

from bench.throwaway_s3 import ThrowawayS3
from records.jobs import JOBS
from records.types import utcnow
from storage.build import open_store
from storage.protocol import ObjectStore
from tests.conftest import make_settings
from tests.in_process import receiver_client
from tests.receiver.test_internal_api import AUTH, TOKEN, job_body
from tests.services import free_port
from tests.storage_fixtures import s3_settings

CONTENT = b"RIFF" + bytes(range(256)) * 40


def bucket_settings(tmp_path: Path, server: ThrowawayS3, bucket: str) -> dict[str, object]:
    storage = s3_settings(server, bucket).model_dump()
    keep = ("storage_url", "s3_endpoint_url", "aws_access_key_id", "aws_region")
    return {
        **{name: storage[name] for name in keep},
        "aws_secret_access_key": storage["aws_secret_access_key"].get_secret_value(),
        "admin_token": TOKEN,
        "audio_dir": str(tmp_path / "web-audio"),
        "audio_url_lifetime_seconds": 120,
    }


@pytest.fixture
def store(s3_server: ThrowawayS3, bucket: str) -> ObjectStore:
    return open_store(s3_settings(s3_server, bucket))


@pytest.fixture
def web_values(tmp_path: Path, s3_server: ThrowawayS3, bucket: str) -> dict[str, object]:
    """The web process's settings of the bucket (beside the database and Redis)."""
    return bucket_settings(tmp_path, s3_server, bucket)


@pytest.fixture
def api(
    database_url: str, redis_url: str, migrated_engine: Engine, web_values: dict[str, object]
) -> Iterator[TestClient]:
    with receiver_client(make_settings(database_url, redis_url, **web_values)) as client:
        yield client


def ready_job(api: TestClient, engine: Engine, store: ObjectStore, tmp_path: Path) -> str:
    """A job made ready with CONTENT as its object in the bucket."""
    api.post("/api/customers", json={"externalRef": "acme", "name": "A"}, headers=AUTH)
    job_id = str(api.post("/api/jobs", json=job_body(), headers=AUTH).json()["id"])
    source = tmp_path / "source.wav"
    source.write_bytes(CONTENT)
    key = f"c/{job_id}.wav"
    store.put(key, source, sha256=hashlib.sha256(CONTENT).hexdigest(), media_type="audio/wav")
    with engine.begin() as conn:
        conn.execute(
            update(JOBS)
            .where(JOBS.c.id == job_id)
            .values(status="ready", audio_path=key, audio_store=store.name, ready_at=utcnow())
        )
    return job_id


class TestAudioFromBucket:
    def test_redirects_to_a_presigned_link_that_serves_the_bytes(
        self, api: TestClient, migrated_engine: Engine, store: ObjectStore, tmp_path: Path
    ) -> None:
        """307 to a link that needs no credentials and carries the audio's media type."""
        job_id = ready_job(api, migrated_engine, store, tmp_path)
        answer = api.get(f"/api/jobs/{job_id}/audio", headers=AUTH, follow_redirects=False)
        assert answer.status_code == 307
        location = answer.headers["location"]
        assert "X-Amz-Expires=120" in location
        fetched = httpx.get(location, trust_env=False)
        assert fetched.content == CONTENT
        assert fetched.headers["content-type"] == "audio/wav"

    def test_redirect_false_streams_the_bytes_through(
        self, api: TestClient, migrated_engine: Engine, store: ObjectStore, tmp_path: Path
    ) -> None:
        """For apps that cannot follow a redirect: 200 with the bytes and their length."""
        job_id = ready_job(api, migrated_engine, store, tmp_path)
        answer = api.get(f"/api/jobs/{job_id}/audio?redirect=false", headers=AUTH)
        assert answer.status_code == 200
        assert answer.content == CONTENT
        assert answer.headers["content-type"] == "audio/wav"
        assert answer.headers["accept-ranges"] == "bytes"
        by_accept = api.get(
            f"/api/jobs/{job_id}/audio",
            headers={**AUTH, "accept": "application/octet-stream"},
            follow_redirects=False,
        )
        assert by_accept.status_code == 200
        assert by_accept.content == CONTENT

    def test_a_range_is_answered_206_with_those_bytes(
        self, api: TestClient, migrated_engine: Engine, store: ObjectStore, tmp_path: Path
    ) -> None:
        """A browser player's Range works when streamed; past the end is 416."""
        job_id = ready_job(api, migrated_engine, store, tmp_path)
        url = f"/api/jobs/{job_id}/audio?redirect=false"
        part = api.get(url, headers={**AUTH, "range": "bytes=4-99"})
        assert part.status_code == 206
        assert part.content == CONTENT[4:100]
        assert part.headers["content-range"] == f"bytes 4-99/{len(CONTENT)}"
        tail = api.get(url, headers={**AUTH, "range": "bytes=-10"})
        assert tail.content == CONTENT[-10:]
        beyond = api.get(url, headers={**AUTH, "range": f"bytes={len(CONTENT)}-"})
        assert beyond.status_code == 416

    def test_a_lost_object_says_so_and_how_to_fetch_it_again(
        self, api: TestClient, migrated_engine: Engine, store: ObjectStore, tmp_path: Path
    ) -> None:
        """The records say ready, the bucket has nothing: 404 audio_missing, naming reprocess."""
        job_id = ready_job(api, migrated_engine, store, tmp_path)
        store.delete(f"c/{job_id}.wav")
        answer = api.get(f"/api/jobs/{job_id}/audio", headers=AUTH, follow_redirects=False)
        assert answer.status_code == 404
        assert answer.json()["error"] == "audio_missing"
        assert "events reprocess" in answer.json()["detail"]

    def test_pruned_audio_is_gone(
        self, api: TestClient, migrated_engine: Engine, store: ObjectStore, tmp_path: Path
    ) -> None:
        """Retention deleted it: 410, saying when."""
        job_id = ready_job(api, migrated_engine, store, tmp_path)
        with migrated_engine.begin() as conn:
            conn.execute(update(JOBS).where(JOBS.c.id == job_id).values(audio_pruned_at=utcnow()))
        answer = api.get(f"/api/jobs/{job_id}/audio", headers=AUTH)
        assert answer.status_code == 410
        assert answer.json()["error"] == "audio_pruned"


@pytest.fixture
def dead_bucket_api(
    database_url: str, redis_url: str, migrated_engine: Engine, web_values: dict[str, object]
) -> Iterator[TestClient]:
    """The web app with its bucket's endpoint not answering."""
    dead = {"s3_endpoint_url": f"http://127.0.0.1:{free_port()}", "storage_timeout_seconds": 2}
    with receiver_client(make_settings(database_url, redis_url, **{**web_values, **dead})) as api:
        yield api


class TestBucketUnreachable:
    def test_the_audio_route_answers_503(
        self,
        dead_bucket_api: TestClient,
        migrated_engine: Engine,
        store: ObjectStore,
        tmp_path: Path,
    ) -> None:
        """A bucket that does not answer is `storage_unavailable`, never a 500."""
        job_id = ready_job(dead_bucket_api, migrated_engine, store, tmp_path)
        answer = dead_bucket_api.get(f"/api/jobs/{job_id}/audio", headers=AUTH)
        assert answer.status_code == 503
        assert answer.json()["error"] == "storage_unavailable"
