"""The PaaS shape: `web` and `worker` as separate processes with separate disks (different
AUDIO_DIRs), sharing only the database, Redis and one bucket on a real S3 server; and a
worker SIGKILLed in the middle of an upload."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from sqlalchemy import Engine

from bench.throwaway_s3 import ThrowawayS3
from tests.conftest import SECRET
from tests.processors.flow import Sandbox, attempts, customer, job
from tests.processors.test_worker_processes import (
    AUTH,
    Processes,
    job_document,
    process_env,
    submit,
)
from tests.services import ServerProcess, start_receiver, wait_for
from tests.storage_fixtures import bucket_objects
from tests.throttled_proxy import throttled_proxy


def files_under(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else []


@pytest.fixture
def database_url(postgres_url: str) -> str:
    """On a PaaS, web and worker share a PostgreSQL server (no SQLite file is shared there)."""
    return postgres_url


@pytest.fixture
def shared_env(
    *,
    database_url: str,
    redis_url: str,
    migrated_engine: Engine,
    vpai: Sandbox,
    s3_server: ThrowawayS3,
    bucket: str,
) -> dict[str, str]:
    """What web and worker share: the database, Redis, the API and the bucket."""
    return process_env(database_url, redis_url, vpai, INGEST_INLINE="true", **s3_server.env(bucket))


@pytest.fixture
def web(shared_env: dict[str, str], vpai: Sandbox, tmp_path: Path) -> Iterator[ServerProcess]:
    """`web` as a process of its own, its AUDIO_DIR its own, the sandbox's webhooks to it."""
    env = {**shared_env, "AUDIO_DIR": str(tmp_path / "web-disk")}
    server = start_receiver(env, tmp_path / "web.log")
    vpai.control.post(
        "/webhook-endpoints",
        json={"url": server.url + "/webhooks/voiceproductionai", "secret": SECRET},
    ).raise_for_status()
    yield server
    server.stop()


class TestPaasShape:
    def test_audio_downloaded_by_the_worker_is_served_by_web(
        self,
        web: ServerProcess,
        shared_env: dict[str, str],
        vpai: Sandbox,
        tmp_path: Path,
        bucket: str,
    ) -> None:
        """Job in through web, ready by the worker; web's audio route (following its redirect
        to the bucket) returns exactly the bytes the sandbox generated; no disk keeps them."""
        processes = Processes({**shared_env, "AUDIO_DIR": str(tmp_path / "worker-disk")}, tmp_path)
        logs = lambda: processes.logs() + web.log()  # noqa: E731
        try:
            processes.start("worker", name="worker")
            job_id = submit(web)
            wait_for(
                lambda: job_document(web, job_id)["status"] == "ready",
                120,
                description="the job is ready",
                log=logs,
            )
        finally:
            processes.stop_all()
        [attempt] = job_document(web, job_id)["attempts"]
        generated = httpx.get(vpai.generation(attempt["generationId"])["downloadUrl"]).content
        answer = httpx.get(
            f"{web.url}/api/jobs/{job_id}/audio", headers=AUTH, follow_redirects=True
        )
        assert answer.status_code == 200
        assert urlsplit(str(answer.url)).path.startswith(f"/{bucket}/audio/")  # from the bucket
        assert answer.content == generated
        assert files_under(tmp_path / "web-disk") == []
        assert files_under(tmp_path / "worker-disk") == []

    def test_samples_uploaded_through_web_are_found_by_the_worker(
        self, web: ServerProcess, shared_env: dict[str, str], tmp_path: Path
    ) -> None:
        """A voice's samples, put in the bucket by web, are read from it by the worker."""
        httpx.post(
            web.url + "/api/customers", json={"externalRef": "acme", "name": "Acme"}, headers=AUTH
        ).raise_for_status()
        samples = [
            {
                "filename": f"take{n}.wav",
                "contentBase64": base64.b64encode(b"RIFF" + bytes([n]) * 64).decode(),
            }
            for n in range(2)
        ]
        created = httpx.post(
            web.url + "/api/voices/clone",
            json={"customerRef": "acme", "name": "Narrator", "samples": samples},
            headers=AUTH,
        )
        assert created.status_code == 202, created.text
        voice_id = created.json()["id"]
        processes = Processes({**shared_env, "AUDIO_DIR": str(tmp_path / "worker-disk")}, tmp_path)

        def voice() -> dict[str, object]:
            document: dict[str, object] = httpx.get(
                f"{web.url}/api/voices/{voice_id}", headers=AUTH
            ).json()
            return document

        try:
            processes.start("worker", name="worker")
            wait_for(
                lambda: voice()["status"] in ("cloning", "ready"),
                120,
                description="the worker uploaded the samples and started the clone",
                log=processes.logs,
            )
        finally:
            processes.stop_all()
        assert files_under(tmp_path / "web-disk") == []


class TestCrashMidUpload:
    def test_sigkill_mid_upload_then_redelivery_stores_one_object_once(
        self,
        *,
        shared_env: dict[str, str],
        migrated_engine: Engine,
        vpai: Sandbox,
        web: ServerProcess,
        s3_server: ThrowawayS3,
        bucket: str,
        tmp_path: Path,
    ) -> None:
        """Killed while its PUT trickles into the bucket: no object, job not ready; the next
        worker stores one intact object and the job is recorded ready once."""
        upstream_port = int(urlsplit(s3_server.endpoint_url).port or 0)
        processes = Processes({**shared_env, "AUDIO_DIR": str(tmp_path / "worker-disk")}, tmp_path)
        try:
            with throttled_proxy(upstream_port, bytes_per_second=40_000) as proxy:
                slow = processes.start(
                    "worker", name="worker-1", env={"S3_ENDPOINT_URL": proxy.url}
                )
                job_id = submit(web, script="A longer script, so the upload takes a while. " * 4)
                wait_for(
                    proxy.uploading.is_set, 120, description="an upload began", log=processes.logs
                )
                processes.kill(slow)  # SIGKILL the whole worker, mid-upload
                assert bucket_objects(s3_server, bucket) == {}
                assert job(migrated_engine, job_id).status != "ready"
            processes.start("worker", name="worker-2")
            processes.start("sweeper", name="sweeper")
            wait_for(
                lambda: job(migrated_engine, job_id).status == "ready",
                120,
                description="the job is ready after the crash",
                log=processes.logs,
            )
        finally:
            processes.stop_all()
        done = job(migrated_engine, job_id)
        assert done.audio_path is not None
        assert bucket_objects(s3_server, bucket) == {f"audio/{done.audio_path}": done.audio_bytes}
        answer = httpx.get(f"{web.url}/api/jobs/{job_id}/audio?redirect=false", headers=AUTH)
        assert hashlib.sha256(answer.content).hexdigest() == done.audio_sha256
        assert customer(migrated_engine).jobs_ready == 1
        assert [a.status for a in attempts(migrated_engine, job_id)] == ["ready"]
