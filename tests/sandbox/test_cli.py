"""`voicehook sandbox` and `voicehook trigger`, run as the processes a user would start."""

from __future__ import annotations

import os
import re
import select
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import pytest

from tests.sandbox.harness import Harness
from tests.sandbox.sink import Reply, WebhookSink

VOICEHOOK = str(Path(sys.executable).with_name("voicehook"))
LISTENING = re.compile(r"listening on (http://\S+)")


def clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("SANDBOX_")}


def voicehook(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [VOICEHOOK, *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=clean_env(),
        check=False,
    )


@pytest.fixture
def sandbox_process(sink: WebhookSink) -> Iterator[tuple[str, list[str]]]:
    """`voicehook sandbox` on a free port; yields its URL and the banner it printed."""
    process = subprocess.Popen(
        [
            VOICEHOOK,
            "sandbox",
            "--port",
            "0",
            "--seed",
            "5",
            "--webhook-url",
            sink.url + "/cli",
            "--duplicate-rate",
            "0.25",
            "--rate-limit",
            "7",
            "--log-level",
            "warning",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=clean_env(),
    )
    assert process.stdout is not None
    banner: list[str] = []
    deadline = time.monotonic() + 30
    try:
        while not any(LISTENING.search(line) for line in banner):
            ready, _, _ = select.select([process.stdout], [], [], deadline - time.monotonic())
            assert ready, f"no banner; stderr: {process.stderr.read() if process.stderr else ''}"
            line = process.stdout.readline()
            assert line, "voicehook sandbox exited before listening"
            banner.append(line.rstrip())
        while len(banner) < 7:
            banner.append(process.stdout.readline().rstrip())
        url = next(m.group(1) for line in banner if (m := LISTENING.search(line)))
        yield url, banner
    finally:
        process.terminate()
        process.wait(timeout=15)


class TestSandboxCommand:
    def test_serves_the_api_with_the_flags_applied(
        self, sandbox_process: tuple[str, list[str]]
    ) -> None:
        """The banner names URL, key and secret; the flags reach the running sandbox."""
        url, banner = sandbox_process
        text = "\n".join(banner)
        assert f"API base URL  {url}/v1" in text
        assert "vk_test_sandbox" in text
        assert "fault seed    5" in text
        assert re.search(r"signing with  whsec_\S+", text)
        with httpx.Client(base_url=url, trust_env=False) as client:
            voices = client.get("/v1/voices", headers={"Authorization": "Bearer vk_test_sandbox"})
            assert voices.status_code == 200
            faults = client.get("/sandbox/faults").json()
            assert (faults["seed"], faults["webhookDuplicateRate"]) == (5, 0.25)
            overview = client.get("/sandbox/").json()
            assert overview["webhookEndpoints"][0]["url"].endswith("/cli")

    def test_refuses_out_of_range_faults(self) -> None:
        """A rate above 1 is a usage error, before anything starts."""
        result = voicehook("sandbox", "--port", "0", "--duplicate-rate", "2")
        assert result.returncode == 2


class TestTriggerCommand:
    @pytest.mark.parametrize("event", ["generation.ready", "generation.failed", "voice.cloned"])
    def test_delivers_one_event_to_the_endpoint(self, sandbox: Harness, event: str) -> None:
        """`voicehook trigger EVENT` makes the sandbox post that event, and reports the 200."""
        result = voicehook("trigger", event, "--sandbox-url", sandbox.url)
        assert result.returncode == 0, result.stderr
        (received,) = sandbox.sink.wait_for(1, sandbox.hook_path)
        data = orjson.loads(received.body)
        assert data["event"] == event
        assert f"Triggered {event} for {data['data']['id']}" in result.stdout
        assert f"-> {sandbox.sink.url}{sandbox.hook_path}: 200" in result.stdout

    def test_resends_for_a_given_resource(self, sandbox: Harness) -> None:
        """`--id` sends the event again for an existing resource."""
        generation_id = sandbox.ready_generation(notify=False)["id"]
        result = voicehook(
            "trigger", "generation.ready", "--sandbox-url", sandbox.url, "--id", generation_id
        )
        assert result.returncode == 0, result.stderr
        (received,) = sandbox.sink.wait_for(1, sandbox.hook_path)
        assert orjson.loads(received.body)["data"]["id"] == generation_id

    def test_fails_when_the_endpoint_refuses(self, sandbox: Harness) -> None:
        """A non-2xx answer is shown and makes the command fail."""
        sandbox.sink.plan(sandbox.hook_path, *[Reply(500)] * 5)
        result = voicehook("trigger", "voice.cloned", "--sandbox-url", sandbox.url)
        assert result.returncode == 1
        assert ": 500" in result.stdout

    def test_fails_without_an_endpoint(self, sandbox: Harness) -> None:
        """With no endpoint registered there is nothing to deliver to: say so, exit 1."""
        (endpoint,) = sandbox.control.get("/webhook-endpoints").json()["items"]
        sandbox.control.delete(f"/webhook-endpoints/{endpoint['id']}")
        result = voicehook("trigger", "generation.ready", "--sandbox-url", sandbox.url)
        assert result.returncode == 1
        assert "No webhook endpoint" in result.stderr

    def test_fails_when_no_sandbox_runs(self) -> None:
        """An unreachable sandbox is reported, exit 1."""
        result = voicehook("trigger", "generation.ready", "--sandbox-url", "http://127.0.0.1:9")
        assert result.returncode == 1
        assert "cannot reach the sandbox" in result.stderr
