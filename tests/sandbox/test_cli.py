"""`voicehook sandbox` and `voicehook trigger`, run in this process (click's runner): the
sandbox serves until SIGTERM, trigger talks to a sandbox over real HTTP."""

from __future__ import annotations

import re

import httpx
import orjson
import pytest

from tests.cli_in_process import Ran, run_cli, run_until_stopped
from tests.sandbox.harness import Harness
from tests.sandbox.sink import Reply, WebhookSink
from tests.services import free_port
from tests.waiting import wait_until


def voicehook(*args: str) -> Ran:
    return run_cli(*args, env={})


class TestSandboxCommand:
    def test_serves_the_api_with_the_flags_applied(self, sink: WebhookSink) -> None:
        """The banner names URL, key and secret; the flags reach the running sandbox; SIGTERM
        stops it."""
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        seen: dict[str, object] = {}

        def check_the_running_sandbox() -> None:
            with httpx.Client(base_url=url, trust_env=False) as client:
                wait_until(lambda: answers(client, "/sandbox/"), description="the sandbox answers")
                voices = client.get(
                    "/v1/voices", headers={"Authorization": "Bearer vk_test_sandbox"}
                )
                seen["voices"] = voices.status_code
                faults = client.get("/sandbox/faults").json()
                seen["faults"] = (faults["seed"], faults["webhookDuplicateRate"])
                seen["endpoint"] = client.get("/sandbox/").json()["webhookEndpoints"][0]["url"]

        ran = run_until_stopped(
            "sandbox", "--port", str(port), "--seed", "5", "--webhook-url", sink.url + "/cli",
            "--duplicate-rate", "0.25", "--rate-limit", "7", "--log-level", "warning",
            env={}, driver=check_the_running_sandbox,
        )  # fmt: skip
        assert ran.returncode == 0, ran.stderr
        assert f"listening on {url}" in ran.stdout
        assert f"API base URL  {url}/v1" in ran.stdout
        assert "vk_test_sandbox" in ran.stdout
        assert "fault seed    5" in ran.stdout
        assert re.search(r"signing with  whsec_\S+", ran.stdout)
        assert seen["voices"] == 200
        assert seen["faults"] == (5, 0.25)
        assert str(seen["endpoint"]).endswith("/cli")

    def test_refuses_out_of_range_faults(self) -> None:
        """A rate above 1 is a usage error, before anything starts."""
        result = voicehook("sandbox", "--port", "0", "--duplicate-rate", "2")
        assert result.returncode == 2


def answers(client: httpx.Client, path: str) -> bool:
    try:
        return client.get(path).status_code == 200
    except httpx.HTTPError:
        return False


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
