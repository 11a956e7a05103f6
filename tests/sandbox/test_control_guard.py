"""The sandbox is safe by default (issue 12, item 10): its control API refuses what a web
page could send, and `voicehook sandbox` says so when it is reachable from elsewhere."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from sandbox.app import create_app
from sandbox.control_guard import refusal
from sandbox.settings import SandboxSettings
from tests.services import ROOT, free_port, wait_for
from voicehook.commands.sandbox import is_loopback


@pytest.fixture
def client() -> Iterator[TestClient]:
    app = create_app(SandboxSettings(speech="tone", seed=1))
    with TestClient(app, base_url="http://127.0.0.1:8010") as running:
        yield running


class TestControlGuard:
    def test_a_cross_site_text_plain_trigger_is_refused(self, client: TestClient) -> None:
        """A page's `text/plain` POST from another origin cannot trigger an event."""
        answer = client.post(
            "/sandbox/trigger",
            content=b'{"event":"generation.ready"}',
            headers={"content-type": "text/plain", "origin": "http://evil.example"},
        )
        assert answer.status_code == 403

    def test_a_body_must_be_json(self, client: TestClient) -> None:
        """Even same-origin, a control body that is not application/json is refused."""
        answer = client.post(
            "/sandbox/trigger",
            content=b'{"event":"generation.ready"}',
            headers={"content-type": "text/plain"},
        )
        assert answer.status_code == 403

    def test_a_rebinding_host_cannot_read_the_webhook_secret(self, client: TestClient) -> None:
        """`Host: evil.example` (DNS rebinding to 127.0.0.1) gets no endpoint list."""
        answer = client.get("/sandbox/webhook-endpoints", headers={"host": "evil.example:8010"})
        assert answer.status_code == 403
        assert client.get("/sandbox/webhook-endpoints").status_code == 200

    def test_same_origin_json_passes(self, client: TestClient) -> None:
        """What the CLI and tests send still works."""
        answer = client.post(
            "/sandbox/trigger",
            json={"event": "generation.ready"},
            headers={"origin": "http://127.0.0.1:8010"},
        )
        assert answer.status_code in (200, 201, 202)

    @pytest.mark.parametrize(
        ("headers", "refused"),
        [
            ({b"host": b"localhost:8010"}, False),
            ({b"host": b"[::1]:8010"}, False),
            ({b"host": b"192.0.2.7:8010"}, False),
            ({b"host": b"rebind.example"}, True),
            ({b"host": b"127.0.0.1", b"sec-fetch-site": b"cross-site"}, True),
            ({b"host": b"127.0.0.1", b"origin": b"null"}, True),
        ],
    )
    def test_refusal_rules(self, headers: dict[bytes, bytes], refused: bool) -> None:
        """Loopback names and IP literals pass; other names and cross-site markers do not."""
        assert (refusal("GET", headers) is not None) is refused


class TestBind:
    def test_loopback_hosts(self) -> None:
        """Only loopback interfaces count as local."""
        assert is_loopback("127.0.0.1")
        assert is_loopback("::1")
        assert not is_loopback("0.0.0.0")  # noqa: S104
        assert not is_loopback("192.0.2.1")

    def test_a_wildcard_bind_warns_and_the_banner_tells_the_truth(self, tmp_path: Path) -> None:
        """`--host 0.0.0.0` prints a warning and a banner naming 0.0.0.0, not 127.0.0.1."""
        log = tmp_path / "sandbox.log"
        port = free_port()
        process = subprocess.Popen(
            [sys.executable, "-m", "voicehook", "sandbox", "--host", "0.0.0.0",  # noqa: S104
             "--port", str(port), "--log-level", "warning"],
            cwd=ROOT, env=dict(os.environ), stdout=log.open("ab"), stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            wait_for(lambda: "control API" in log.read_text())
            wait_for(lambda: "WARNING" in log.read_text())
            text = log.read_text()
            assert f"listening on http://0.0.0.0:{port}" in text
            assert "no authentication" in text
        finally:
            process.terminate()
            process.wait(20)
