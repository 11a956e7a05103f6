"""Intake the app can retry: Idempotency-Key on every creating POST, externalRef, metadata.

The concurrent tests send real HTTP requests from threads to the app served by uvicorn,
on SQLite and on PostgreSQL; the database's unique key is what keeps them to one job.
"""

from __future__ import annotations

import base64
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine, func, select, update
from starlette.testclient import TestClient

from records.idempotency import prune_keys
from records.idempotency_tables import IDEMPOTENCY_KEYS
from records.jobs import JOBS, VOICES, JobStatus
from records.notify_endpoints import sync_env_endpoints
from records.outbox_tables import NOTIFICATIONS
from records.submission_repo import start_submission, submission_refused
from records.types import utcnow
from tests.conftest import make_settings
from tests.in_process import Served, served_receiver_client
from tests.receiver.test_internal_api import AUTH, TOKEN, api, job_body, submissions_queued

__all__ = ["api"]  # the fixture, shared with the internal API's own tests

CONCURRENT = 20


@pytest.fixture
def served_api(
    database_url: str, redis_url: str, migrated_engine: Engine, tmp_path: Path
) -> Iterator[Served]:
    settings = make_settings(
        database_url, redis_url, admin_token=TOKEN, audio_dir=str(tmp_path / "audio")
    )
    with served_receiver_client(settings) as served:
        yield served


def count(engine: Engine, table: object) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())  # type: ignore[arg-type]


def keyed(key: str) -> dict[str, str]:
    return {**AUTH, "idempotency-key": key}


def at_once(url: str, path: str, body: dict[str, object], key: str) -> list[httpx.Response]:
    """CONCURRENT identical requests released together, each on its own connection."""
    barrier = threading.Barrier(CONCURRENT)
    answers: list[httpx.Response] = []
    lock = threading.Lock()

    def send() -> None:
        with httpx.Client(base_url=url, timeout=120) as client:
            barrier.wait()
            answer = client.post(path, json=body, headers=keyed(key))
        with lock:
            answers.append(answer)

    threads = [threading.Thread(target=send) for _ in range(CONCURRENT)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


class TestIdempotentJobs:
    def test_concurrent_identical_requests_make_one_job(
        self, served_api: Served, migrated_engine: Engine, redis_url: str
    ) -> None:
        """20 identical POSTs with one key, at once over HTTP: one job, one submission, and
        every answer is the first one (202, the same id)."""
        served_api.client.post("/api/customers", json={"externalRef": "acme", "name": "A"},
                               headers=AUTH)  # fmt: skip

        answers = at_once(served_api.url, "/api/jobs", job_body(), "order-42-attempt")

        assert {a.status_code for a in answers} == {202}, [a.text for a in answers]
        ids = {a.json()["id"] for a in answers}
        assert len(ids) == 1
        assert count(migrated_engine, JOBS) == 1
        assert submissions_queued(redis_url) == list(ids)
        assert {a.headers["location"] for a in answers} == {f"/api/jobs/{ids.pop()}"}
        assert sum(a.headers.get("idempotent-replayed") == "true" for a in answers) == 19

    def test_concurrent_customer_creation_with_one_key(
        self, served_api: Served, migrated_engine: Engine
    ) -> None:
        """20 identical customer POSTs with one key: all get the first answer, 201."""
        body: dict[str, object] = {"externalRef": "acme", "name": "Acme"}
        answers = at_once(served_api.url, "/api/customers", body, "signup-1")
        assert {a.status_code for a in answers} == {201}, [a.text for a in answers]
        assert len({a.json()["id"] for a in answers}) == 1


class TestKeys:
    def test_same_key_same_body_replays_the_first_answer(
        self, api: TestClient, migrated_engine: Engine
    ) -> None:
        """A retry after a time-out gets the original status and body; no second job."""
        api.post("/api/customers", json={"externalRef": "acme", "name": "Acme"}, headers=AUTH)
        first = api.post("/api/jobs", json=job_body(), headers=keyed("k-1"))
        with migrated_engine.begin() as conn:  # the job moved on meanwhile
            conn.execute(update(JOBS).values(status="submitted"))
        again = api.post("/api/jobs", json=job_body(), headers=keyed("k-1"))
        assert (again.status_code, again.json()) == (first.status_code, first.json())
        assert again.headers["idempotent-replayed"] == "true"
        assert "idempotent-replayed" not in first.headers
        assert count(migrated_engine, JOBS) == 1

    def test_same_key_other_body_is_422(self, api: TestClient, migrated_engine: Engine) -> None:
        """A key reused with another body is refused, and creates nothing."""
        api.post("/api/customers", json={"externalRef": "acme", "name": "Acme"}, headers=AUTH)
        api.post("/api/jobs", json=job_body(), headers=keyed("k-2"))
        reused = api.post("/api/jobs", json=job_body(script="Other."), headers=keyed("k-2"))
        assert reused.status_code == 422
        assert reused.json()["error"] == "idempotency_key_reused"
        assert count(migrated_engine, JOBS) == 1

    def test_keys_are_per_operation_and_the_body_is_compared_as_json(self, api: TestClient) -> None:
        """One key on two operations is two keys; key order and spacing are not a change."""
        created = api.post(
            "/api/customers", json={"externalRef": "acme", "name": "Acme"}, headers=keyed("k")
        )
        assert created.status_code == 201
        job = api.post("/api/jobs", json=job_body(), headers=keyed("k"))
        assert job.status_code == 202
        reordered = api.post(
            "/api/customers",
            content=b'{ "name": "Acme",  "externalRef": "acme" }',
            headers={**keyed("k"), "content-type": "application/json"},
        )
        assert (reordered.status_code, reordered.json()) == (201, created.json())

    def test_bad_keys_are_400(self, api: TestClient) -> None:
        """A key too long, or with spaces, is a clear 400 before anything is stored."""
        for bad in ("x" * 256, "has space"):
            answer = api.post(
                "/api/customers", json={"externalRef": "a", "name": "A"}, headers=keyed(bad)
            )
            assert answer.status_code == 400
            assert answer.json()["error"] == "invalid_idempotency_key"

    def test_a_failed_creation_keeps_no_key(self, api: TestClient) -> None:
        """A job for an unknown customer is a 404 and its key stays free for the retry that
        comes once the customer exists."""
        missing = api.post("/api/jobs", json=job_body(), headers=keyed("k-3"))
        assert missing.status_code == 404
        api.post("/api/customers", json={"externalRef": "acme", "name": "Acme"}, headers=AUTH)
        assert api.post("/api/jobs", json=job_body(), headers=keyed("k-3")).status_code == 202

    def test_voice_clone_replays_without_a_second_voice(
        self, api: TestClient, migrated_engine: Engine
    ) -> None:
        """A clone retried with its key answers the first voice and stores no other."""
        api.post("/api/customers", json={"externalRef": "acme", "name": "Acme"}, headers=AUTH)
        body = {
            "customerRef": "acme",
            "name": "Narrator",
            "samples": [{"filename": "a.wav", "contentBase64": base64.b64encode(b"RIFF").decode()}],
        }
        first = api.post("/api/voices/clone", json=body, headers=keyed("v-1"))
        again = api.post("/api/voices/clone", json=body, headers=keyed("v-1"))
        assert first.status_code == again.status_code == 202
        assert first.json() == again.json()
        assert count(migrated_engine, VOICES) == 1

    def test_sweeper_prunes_only_keys_older_than_kept(
        self, api: TestClient, migrated_engine: Engine
    ) -> None:
        """Keys younger than the cutoff stay; older ones go, and the key is free again."""
        api.post("/api/customers", json={"externalRef": "a", "name": "A"}, headers=keyed("old"))
        api.post("/api/customers", json={"externalRef": "b", "name": "B"}, headers=keyed("new"))
        with migrated_engine.begin() as conn:
            conn.execute(
                update(IDEMPOTENCY_KEYS)
                .where(IDEMPOTENCY_KEYS.c.key == "old")
                .values(created_at=utcnow() - timedelta(hours=25))
            )
        assert prune_keys(migrated_engine, utcnow() - timedelta(hours=24)) == 1
        assert count(migrated_engine, IDEMPOTENCY_KEYS) == 1
        reused = api.post(
            "/api/customers", json={"externalRef": "c", "name": "C"}, headers=keyed("old")
        )
        assert reused.status_code == 201


class TestExternalRefAndMetadata:
    def test_external_ref_is_unique_per_customer(self, api: TestClient) -> None:
        """A second job with one customer's externalRef is a 409 naming the first job;
        another customer may use the same ref."""
        for ref in ("acme", "globex"):
            api.post("/api/customers", json={"externalRef": ref, "name": ref}, headers=AUTH)
        first = api.post("/api/jobs", json=job_body(externalRef="order-1"), headers=AUTH)
        assert first.status_code == 202
        clash = api.post("/api/jobs", json=job_body(externalRef="order-1"), headers=AUTH)
        assert clash.status_code == 409
        assert clash.json()["error"] == "duplicate_external_ref"
        assert clash.json()["jobId"] == first.json()["id"]
        other = api.post(
            "/api/jobs", json=job_body(externalRef="order-1", customerRef="globex"), headers=AUTH
        )
        assert other.status_code == 202

    def test_metadata_is_echoed_in_the_job_document(self, api: TestClient) -> None:
        """Metadata and externalRef come back in GET /api/jobs/{id}."""
        api.post("/api/customers", json={"externalRef": "acme", "name": "Acme"}, headers=AUTH)
        metadata = {"order": {"id": 42, "lines": [1, 2]}, "source": "web"}
        created = api.post(
            "/api/jobs", json=job_body(externalRef="o-9", metadata=metadata), headers=AUTH
        )
        shown = api.get(created.headers["location"], headers=AUTH).json()
        assert shown["metadata"] == metadata
        assert shown["externalRef"] == "o-9"

    @pytest.mark.parametrize(
        "metadata",
        [
            {"blob": "x" * 3000},
            {"a": {"b": {"c": {"d": {"e": 1}}}}},
            ["not", "an", "object"],
            {"big": 2**70},
        ],
    )
    def test_metadata_too_big_deep_or_not_an_object_is_400(
        self, api: TestClient, metadata: object
    ) -> None:
        """Metadata over 2 KiB, nested past 4 levels, not an object, or with an integer no
        JSON encoder here can write back: 400 naming it."""
        api.post("/api/customers", json={"externalRef": "acme", "name": "Acme"}, headers=AUTH)
        answer = api.post("/api/jobs", json=job_body(metadata=metadata), headers=AUTH)
        assert answer.status_code == 400
        assert answer.json()["detail"][0]["field"] == "metadata"

    def test_metadata_and_external_ref_reach_the_notifications(
        self, api: TestClient, migrated_engine: Engine
    ) -> None:
        """The job.failed notification carries the job document, metadata and ref included."""
        sync_env_endpoints(migrated_engine, ["https://app.example/hooks"])
        api.post("/api/customers", json={"externalRef": "acme", "name": "Acme"}, headers=AUTH)
        metadata = {"orderId": 1234}
        job_id = api.post(
            "/api/jobs", json=job_body(externalRef="o-1", metadata=metadata), headers=AUTH
        ).json()["id"]
        submission = start_submission(migrated_engine, job_id)
        assert submission is not None
        submission_refused(migrated_engine, submission, JobStatus.FAILED, "403 voice not allowed")
        with migrated_engine.connect() as conn:
            data = conn.execute(
                select(NOTIFICATIONS.c.data).where(NOTIFICATIONS.c.type == "job.failed")
            ).scalar_one()
        assert data["id"] == job_id
        assert data["metadata"] == metadata
        assert data["externalRef"] == "o-1"

    def test_a_lone_surrogate_is_400_not_500(self, api: TestClient) -> None:
        """JSON with a lone surrogate escape (which no answer could encode) is refused."""
        answer = api.post(
            "/api/customers",
            content=b'{"externalRef": "\\udae0", "name": "A"}',
            headers={**AUTH, "content-type": "application/json"},
        )
        assert answer.status_code == 400
        assert answer.json()["error"] == "invalid_request"
