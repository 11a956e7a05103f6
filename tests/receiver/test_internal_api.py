"""The internal API in process (TestClient): auth, validation, customers and jobs, enqueue
after commit."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
import redis
from sqlalchemy import Engine, update
from starlette.testclient import TestClient

from records.jobs import JOBS
from tests.conftest import make_settings
from tests.in_process import receiver_client
from tests.receiver.conftest import as_text

TOKEN = "admin-token-for-tests"
AUTH = {"authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def api(
    database_url: str, redis_url: str, migrated_engine: Engine, tmp_path: Path
) -> Iterator[TestClient]:
    settings = make_settings(
        database_url, redis_url, admin_token=TOKEN, audio_dir=str(tmp_path / "audio")
    )
    with receiver_client(settings) as client:
        yield client


def submissions_queued(redis_url: str, actor: str = "submit_job") -> list[str]:
    client = redis.Redis.from_url(redis_url)
    ids = [as_text(raw) for raw in client.lrange("dramatiq:jobs", 0, -1)]
    found = []
    for raw in client.hmget("dramatiq:jobs.msgs", ids) if ids else []:
        assert raw is not None
        message = orjson.loads(raw)
        if message["actor_name"] != actor:
            continue
        found.append(str(message["args"][0]))
    return found


def job_body(**overrides: object) -> dict[str, object]:
    body: dict[str, object] = {
        "customerRef": "acme",
        "voiceId": "voice-1",
        "script": "Hello there.",
        "format": "wav",
        "settings": {"speed": 1.25, "pitchSemitones": -2},
    }
    body.update(overrides)
    return body


class TestAuth:
    def test_missing_or_wrong_token_is_401(self, api: TestClient) -> None:
        """Without the admin bearer token nothing is created."""
        assert api.post("/api/customers", json={}).status_code == 401
        wrong = {"authorization": "Bearer nope"}
        assert api.get("/api/jobs/x", headers=wrong).status_code == 401

    def test_disabled_without_admin_token(
        self, database_url: str, redis_url: str, migrated_engine: Engine, tmp_path: Path
    ) -> None:
        """With ADMIN_TOKEN unset the API answers 503 and says what to set."""
        with receiver_client(make_settings(database_url, redis_url)) as client:
            response = client.get("/api/jobs/x", headers=AUTH)
        assert response.status_code == 503
        assert response.json()["error"] == "admin_api_disabled"


class TestCustomersAndJobs:
    def test_job_is_accepted_stored_and_enqueued(self, api: TestClient, redis_url: str) -> None:
        """A valid job: 202 at once, stored pending, one submit message enqueued."""
        customer = api.post(
            "/api/customers", json={"externalRef": "acme", "name": "Acme"}, headers=AUTH
        )
        assert customer.status_code == 201
        again = api.post(
            "/api/customers", json={"externalRef": "acme", "name": "Acme"}, headers=AUTH
        )
        assert again.status_code == 200
        assert again.json()["id"] == customer.json()["id"]

        created = api.post("/api/jobs", json=job_body(), headers=AUTH)
        assert created.status_code == 202
        job_id = created.json()["id"]
        assert created.json()["status"] == "pending"
        assert submissions_queued(redis_url) == [job_id]

        shown = api.get(f"/api/jobs/{job_id}", headers=AUTH).json()
        assert shown["status"] == "pending"
        assert shown["customerId"] == customer.json()["id"]
        assert shown["settings"] == {"speed": 1.25, "pitchSemitones": -2}
        assert shown["attempts"] == []
        assert shown["audio"] is None

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            (job_body(voiceId=""), "voiceId"),
            (job_body(script=""), "script"),
            (job_body(format="ogg"), "format"),
            (job_body(settings={"speed": 9}), "settings.speed"),
            (job_body(customerRef=None), ""),
            (job_body(extra=1), "extra"),
        ],
    )
    def test_invalid_jobs_are_400_with_the_field(
        self, api: TestClient, redis_url: str, body: dict[str, object], field: str
    ) -> None:
        """A bad job body names what is wrong and nothing is stored or enqueued."""
        response = api.post("/api/jobs", json=body, headers=AUTH)
        assert response.status_code == 400
        assert response.json()["error"] == "invalid_request"
        assert any(field in d["field"] for d in response.json()["detail"])
        assert submissions_queued(redis_url) == []

    def test_unknown_customer_is_404(self, api: TestClient) -> None:
        """A job for a customer that does not exist is refused."""
        response = api.post("/api/jobs", json=job_body(), headers=AUTH)
        assert response.status_code == 404

    def test_audio_only_when_ready(
        self, api: TestClient, migrated_engine: Engine, tmp_path: Path
    ) -> None:
        """Audio is 409 until the job is ready, then the stored file with its media type."""
        api.post("/api/customers", json={"externalRef": "acme", "name": "A"}, headers=AUTH)
        job_id = api.post("/api/jobs", json=job_body(), headers=AUTH).json()["id"]
        assert api.get(f"/api/jobs/{job_id}/audio", headers=AUTH).status_code == 409
        audio = tmp_path / "audio" / "c" / f"{job_id}.wav"
        audio.parent.mkdir(parents=True)
        audio.write_bytes(b"RIFF....WAVEfake")
        with migrated_engine.begin() as conn:
            conn.execute(
                update(JOBS)
                .where(JOBS.c.id == job_id)
                .values(status="ready", audio_path=f"c/{job_id}.wav")
            )
        response = api.get(f"/api/jobs/{job_id}/audio", headers=AUTH)
        assert response.status_code == 200
        assert response.headers["content-type"] == "audio/wav"
        assert response.content == b"RIFF....WAVEfake"
        assert api.get("/api/jobs/nope/audio", headers=AUTH).status_code == 404


class TestVoiceClone:
    def test_samples_are_stored_and_the_clone_enqueued(
        self, api: TestClient, redis_url: str, tmp_path: Path
    ) -> None:
        """202 with the voice id; samples on disk byte for byte; one clone message queued."""
        api.post("/api/customers", json={"externalRef": "acme", "name": "A"}, headers=AUTH)
        sample = base64.b64encode(b"RIFF1234WAVEdata").decode()
        response = api.post(
            "/api/voices/clone",
            json={
                "customerRef": "acme",
                "name": "Narrator",
                "samples": [{"filename": "take1.wav", "contentBase64": sample}],
            },
            headers=AUTH,
        )
        assert response.status_code == 202
        voice_id = response.json()["id"]
        stored = list((tmp_path / "audio" / "_samples" / voice_id).iterdir())
        assert [p.read_bytes() for p in stored] == [b"RIFF1234WAVEdata"]
        assert submissions_queued(redis_url, actor="clone_voice") == [voice_id]
        shown = api.get(f"/api/voices/{voice_id}", headers=AUTH).json()
        assert shown["status"] == "uploading"

    @pytest.mark.parametrize(
        "sample",
        [
            {"filename": "../escape.wav", "contentBase64": "UklGRg=="},
            {"filename": "ok.wav", "contentBase64": "not base64!"},
            {"filename": "ok.wav", "contentBase64": ""},
        ],
    )
    def test_bad_samples_are_400(self, api: TestClient, sample: dict[str, str]) -> None:
        """Path tricks, invalid base64 and empty samples are refused before anything is stored."""
        api.post("/api/customers", json={"externalRef": "acme", "name": "A"}, headers=AUTH)
        response = api.post(
            "/api/voices/clone",
            json={"customerRef": "acme", "name": "N", "samples": [sample]},
            headers=AUTH,
        )
        assert response.status_code == 400
        assert response.json()["error"] == "invalid_request"
