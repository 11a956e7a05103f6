"""No log line of any process holds a secret (issue 12, item 6): a job runs through `voicehook
web` and `voicehook worker` to a downloaded file, then every log is searched."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import orjson
from sqlalchemy import Engine, select

from config.database import make_engine
from records.events import DELIVERIES
from records.migrate import upgrade
from sandbox.voices import DEFAULT_VOICE
from tests.conftest import SECRET, make_settings
from tests.processors.flow import Sandbox
from tests.receiver.hostile import voicehook_web
from tests.services import ROOT, wait_for

TOKEN = "admin-token-that-must-not-leak"


def download_urls(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        bodies = conn.execute(select(DELIVERIES.c.body)).scalars().all()
    urls = [orjson.loads(body)["data"].get("downloadUrl") for body in bodies if body]
    return [url for url in urls if url]


def test_no_process_logs_a_signed_url_or_secret(
    sqlite_url: str,
    redis_url: str,
    vpai: Sandbox,
    tmp_path: Path,
) -> None:
    """After a job's audio is downloaded, no log holds the download URL's query string, the
    webhook secret, the API key or the admin token; at the debug level, which logs every line
    the info level does and more."""
    engine = make_engine(make_settings(sqlite_url))
    upgrade(engine)
    env = {
        "ADMIN_TOKEN": TOKEN,
        "AUDIO_DIR": str(tmp_path / "audio"),
        "VPAI_API_BASE_URL": vpai.server.api_base_url,
        "VPAI_API_KEY": vpai.server.api_key,
        "LOG_LEVEL": "debug",
        "WORKER_PROCESSES": "1",
        "WORKER_THREADS": "2",
    }
    web_log, worker_log = tmp_path / "web.log", tmp_path / "worker.log"
    with voicehook_web(sqlite_url, redis_url, web_log, env=env) as web:
        vpai.control.post(
            "/webhook-endpoints",
            json={"url": web.url + "/webhooks/voiceproductionai", "secret": SECRET},
        ).raise_for_status()
        worker = subprocess.Popen(
            [sys.executable, "-m", "voicehook", "worker"],
            env={**os.environ, **web.env, "DATABASE_URL": sqlite_url, "REDIS_URL": redis_url,
                 "VPAI_WEBHOOK_SECRETS": SECRET, "LOG_FORMAT": "json"},
            cwd=ROOT, stdout=worker_log.open("ab"), stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            auth = {"authorization": f"Bearer {TOKEN}"}
            httpx.post(
                web.url + "/api/customers", json={"externalRef": "acme", "name": "A"}, headers=auth
            ).raise_for_status()
            created = httpx.post(
                web.url + "/api/jobs",
                json={"customerRef": "acme", "voiceId": DEFAULT_VOICE.id, "script": "Hi.",
                      "format": "wav"},
                headers=auth,
            )  # fmt: skip
            assert created.status_code == 202, created.text
            job_url = f"{web.url}/api/jobs/{created.json()['id']}"

            def ready() -> bool:
                if worker.poll() is not None:
                    raise AssertionError(f"worker exited:\n{worker_log.read_text()}")
                return bool(httpx.get(job_url, headers=auth).json()["status"] == "ready")

            try:
                wait_for(ready, description="the job is ready")
            except AssertionError:
                print(worker_log.read_text())
                raise
        finally:
            worker.terminate()
            worker.wait(30)
    urls = download_urls(engine)
    engine.dispose()
    assert urls, "the sandbox sent no download URL"
    secrets = {SECRET, vpai.server.api_key, TOKEN}
    for url in urls:
        query = urlsplit(url).query
        assert query
        secrets.add(query)
        secrets.update(value.split("=", 1)[1] for value in query.split("&") if "=" in value)
    for log in (web_log, worker_log):
        text = log.read_text()
        assert text, f"{log.name} is empty"
        leaked = sorted(secret for secret in secrets if secret in text)
        assert not leaked, f"{log.name} holds {leaked}:\n{text[-3000:]}"
