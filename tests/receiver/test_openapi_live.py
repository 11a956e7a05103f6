"""The OpenAPI document is true: schemathesis generates requests for every documented
operation of the internal API and sends them to a live `voicehook web` process; no answer
may be a 500, and every answer must be documented (status, content type, body, headers)."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from receiver.api_openapi import openapi_document
from tests.conftest import SECRET
from tests.receiver.test_internal_api import AUTH, TOKEN, job_body
from tests.services import ROOT, ServerProcess, answers_health, free_port
from tests.voicehook.test_cli_processes import voicehook
from voicehook.child_process import ChildProcess

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]
# Not `negative_data_rejection`: it counts the missing Authorization header (which every
# call here sends) as the request's flaw, and an extra query parameter that serialized to
# nothing as another, then calls the 200 a failure. Unknown parameters and invalid bodies
# have tests of their own (test_api_lists.py, test_api_intake.py); negative requests are
# still generated and must get documented answers, never a 500.


@pytest.fixture(scope="module")
def live_web(tmp_path_factory: pytest.TempPathFactory, _session_redis: str) -> Iterator[str]:
    """`voicehook web` on a migrated SQLite database, with a customer and a job in it."""
    workdir = tmp_path_factory.mktemp("live-web")
    port = free_port()
    env = {
        "DATABASE_URL": f"sqlite:///{workdir / 'voicehook.db'}",
        "REDIS_URL": _session_redis,
        "VPAI_WEBHOOK_SECRETS": SECRET,
        "ADMIN_TOKEN": TOKEN,
        "AUDIO_DIR": str(workdir / "audio"),
        "PORT": str(port),
        "WEB_CONCURRENCY": "1",
        "LOG_FORMAT": "json",
    }
    upgraded = voicehook("db", "upgrade", env=env)
    assert upgraded.returncode == 0, upgraded.stderr
    child = ChildProcess.start(
        [sys.executable, "-m", "voicehook", "web"],
        name="voicehook web",
        env={**os.environ, **env},
        cwd=ROOT,
        log_path=workdir / "web.log",
        grace_seconds=30,
    )
    server = ServerProcess(f"http://127.0.0.1:{port}", child)
    try:
        child.wait_until_ready(lambda: answers_health(server.url), timeout=180)
        with httpx.Client(base_url=server.url, headers=AUTH, timeout=60) as client:
            client.post("/api/customers", json={"externalRef": "acme", "name": "Acme"})
            client.post("/api/jobs", json=job_body(externalRef="seed", metadata={"a": 1}))
        yield server.url
    finally:
        child.stop()
        print(Path(workdir / "web.log").read_text(errors="replace")[-20000:])


# The document the app serves, built here to parametrize the tests by operation (the
# served copy is compared with it below); the requests all go to the live process.
schema = schemathesis.openapi.from_dict(openapi_document())


@schema.parametrize()
@settings(
    max_examples=40,
    database=None,  # no example database left in the worktree; each run explores afresh
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_every_operation_answers_as_documented(case: schemathesis.Case[Any], live_web: str) -> None:
    """Generated requests (valid and invalid) get a documented answer, never a 500."""
    case.call_and_validate(base_url=live_web, headers=AUTH, checks=CHECKS, timeout=60)


def test_the_document_is_public_and_openapi_3_1(live_web: str) -> None:
    """The document needs no token, is OpenAPI 3.1, and lists every /api route."""
    document = httpx.get(f"{live_web}/api/openapi.json", timeout=60).json()
    assert document == orjson.loads(orjson.dumps(openapi_document()))
    assert document["openapi"] == "3.1.0"
    assert {
        "/api/customers", "/api/customers/{customer_id}", "/api/jobs", "/api/jobs/{job_id}",
        "/api/jobs/{job_id}/audio", "/api/jobs/{job_id}/retry", "/api/jobs/{job_id}/resume",
        "/api/voices", "/api/voices/clone", "/api/voices/{voice_id}",
    } <= set(document["paths"])  # fmt: skip


def test_the_rendered_page_lists_every_operation_and_loads_nothing_else(live_web: str) -> None:
    """/api/docs is public HTML naming every path, with no script and no outside asset."""
    page = httpx.get(f"{live_web}/api/docs", timeout=60)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    for path in openapi_document()["paths"]:
        assert path in page.text
    assert "<script" not in page.text
    assert "src=" not in page.text
    assert 'href="http' not in page.text
