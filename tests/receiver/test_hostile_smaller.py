"""Smaller edges of issue 12 (item 11), against a real `voicehook web`: forged requests
cannot flood the log (a process of its own, whose log is read once it stopped), no redirect
reflects the Host header, internal-API bodies are capped (one process for both)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import pytest
from sqlalchemy import Engine

from receiver.log_sampling import INTERVAL_SECONDS, SampledWarning
from tests.databases import SqliteTemplate
from tests.receiver.conftest import WEBHOOK, envelope
from tests.receiver.hostile import voicehook_web
from tests.services import ServerProcess

TOKEN = "admin-smaller"


@pytest.fixture
def web(
    sqlite_url: str, redis_url: str, sqlite_engine: Engine, tmp_path: Path
) -> Iterator[ServerProcess]:
    env = {"ADMIN_TOKEN": TOKEN}
    with voicehook_web(sqlite_url, redis_url, tmp_path / "web.log", env=env) as server:
        yield server


@pytest.fixture(scope="module")
def shared_web(
    tmp_path_factory: pytest.TempPathFactory,
    _sqlite_template: SqliteTemplate,
    _session_redis: str,
) -> Iterator[ServerProcess]:
    """One `voicehook web` for the tests that only ask it something and leave it running."""
    folder = tmp_path_factory.mktemp("shared-web")
    url = f"sqlite:///{folder / 'voicehook.db'}"
    _sqlite_template.copy_to(url)
    env = {"ADMIN_TOKEN": TOKEN}
    with voicehook_web(url, _session_redis, folder / "web.log", env=env) as server:
        yield server


class TestSampledWarning:
    def test_one_line_per_interval_counting_the_rest(self) -> None:
        """Within an interval only the first occurrence logs; the next says how many were not."""
        now = [0.0]
        sampled = SampledWarning("x", interval=10, clock=lambda: now[0])
        assert [sampled.warn() for _ in range(5)] == [True, False, False, False, False]
        now[0] = 11
        assert sampled.warn()


class TestForgedFlood:
    def test_a_flood_of_forged_requests_writes_few_lines(self, web: ServerProcess) -> None:
        """200 forged deliveries are all refused 401, and log one line per sampling interval
        (however long the flood took on a loaded machine), each counting those it held back."""
        body = envelope()
        headers = {"x-voiceproductionai-signature": "sha256=" + "0" * 64}
        started = time.monotonic()
        with httpx.Client(timeout=10) as client:
            statuses = [
                client.post(web.url + WEBHOOK, content=body, headers=headers).status_code
                for _ in range(200)
            ]
        intervals = (time.monotonic() - started) / INTERVAL_SECONDS
        assert set(statuses) == {401}
        web.stop()
        lines = [orjson.loads(line) for line in web.log().splitlines() if line.startswith("{")]
        rejected = [line for line in lines if line.get("event") == "webhook.rejected"]
        assert 1 <= len(rejected) <= 1 + intervals
        assert rejected[0]["suppressed"] == 0
        # Every refusal was either written or counted as held back by a later line.
        assert len(rejected) + sum(line["suppressed"] for line in rejected) <= len(statuses)


class TestRedirects:
    def test_a_trailing_slash_never_redirects_to_the_host_header(
        self, shared_web: ServerProcess
    ) -> None:
        """`/healthz/` with a foreign Host gets no redirect to it."""
        answer = httpx.get(shared_web.url + "/healthz/", headers={"host": "evil.example"})
        assert "evil.example" not in answer.headers.get("location", "")
        assert answer.status_code == 404


class TestInternalApiBodies:
    def test_an_oversized_body_is_refused_413(self, shared_web: ServerProcess) -> None:
        """An authenticated request with a body past the cap gets 413, not a parse of it."""
        answer = httpx.post(
            shared_web.url + "/api/customers",
            content=b'{"externalRef":"a","name":"' + b"n" * 200_000 + b'"}',
            headers={"authorization": f"Bearer {TOKEN}", "content-type": "application/json"},
            timeout=10,
        )
        assert answer.status_code == 413
        assert answer.json()["error"] == "payload_too_large"
        assert "65536 bytes" in answer.json()["detail"]
