"""Each fault knob, set through the control API, doing what it says over real HTTP."""

from __future__ import annotations

import time
import wave
from io import BytesIO
from typing import Any

import httpx
import orjson
import pytest

from tests.sandbox.harness import EMMA, Harness
from tests.services import wait_for


def trigger(harness: Harness, event: str = "generation.ready") -> dict[str, Any]:
    response = harness.control.post("/trigger", json={"event": event})
    assert response.status_code == 202, response.text
    result: dict[str, Any] = response.json()
    return result


def outcomes(harness: Harness, count: int) -> list[str]:
    ids = [harness.submit(f"Generation number {n}.") for n in range(count)]
    return [harness.wait_for_status(i, "ready", "failed")["status"] for i in ids]


class TestGenerationFailures:
    def test_a_seed_reproduces_which_generations_fail(self, sandbox: Harness) -> None:
        """With rate 0.5 and one seed, the same submissions fail the same way after a reset."""
        sandbox.faults(generationFailureRate=0.5, seed=77)
        first = outcomes(sandbox, 12)
        sandbox.reset()
        sandbox.faults(generationFailureRate=0.5, seed=77)
        assert outcomes(sandbox, 12) == first
        assert set(first) == {"ready", "failed"}

    def test_a_rate_of_one_fails_everything(self, sandbox: Harness) -> None:
        """Every generation fails when the rate is 1."""
        sandbox.faults(generationFailureRate=1.0)
        assert outcomes(sandbox, 3) == ["failed"] * 3


class TestApiErrors:
    def test_the_error_rate_answers_5xx_reproducibly(self, sandbox: Harness) -> None:
        """At rate 0.5 some requests get 500/502/503 `internal_error`; a seed repeats it."""

        def statuses() -> list[int]:
            return [sandbox.api.get("/v1/voices").status_code for _ in range(30)]

        sandbox.faults(apiErrorRate=0.5, seed=5)
        first = statuses()
        sandbox.faults(seed=5)
        assert statuses() == first
        assert set(first) - {200} <= {500, 502, 503}
        assert 200 in first
        assert set(first) != {200}
        failing = next(r for r in (sandbox.api.get("/v1/voices") for _ in range(50)) if r.is_error)
        assert failing.json() == {"error": "internal_error"}

    def test_forced_500s_hit_the_next_requests_and_stop(self, sandbox: Harness) -> None:
        """`force500: 2` fails exactly the next two API calls, and nothing is created by them."""
        sandbox.faults(force500=2)
        before = sandbox.default_workspace()["credits"]
        body = {"voiceId": EMMA, "script": "Hi"}
        codes = [sandbox.api.post("/v1/generations", json=body).status_code for _ in range(3)]
        assert codes == [500, 500, 202]
        assert sandbox.default_workspace()["credits"] == before - 1

    def test_forced_429s_count_as_rate_limited(self, sandbox: Harness) -> None:
        """`force429: 2` answers the contract's 429 twice, counted as rate-limited requests."""
        sandbox.faults(force429=2)
        responses = [sandbox.api.get("/v1/voices") for _ in range(3)]
        assert [r.status_code for r in responses] == [429, 429, 200]
        assert responses[0].json() == {"error": "rate_limit_exceeded", "retryAfter": 60}
        requests = sandbox.default_workspace()["requests"]
        assert (requests["served"], requests["rateLimited"]) == (1, 2)

    def test_forced_402s_refuse_generations_despite_credits(self, sandbox: Harness) -> None:
        """`force402: 1` refuses the next generation with 402 and charges nothing."""
        sandbox.faults(force402=1)
        before = sandbox.default_workspace()["credits"]
        body = {"voiceId": EMMA, "script": "Hi"}
        first = sandbox.api.post("/v1/generations", json=body)
        assert (first.status_code, first.json()) == (402, {"error": "insufficient_credits"})
        assert sandbox.default_workspace()["credits"] == before
        assert sandbox.api.post("/v1/generations", json=body).status_code == 202


class TestDeliveryFaults:
    def test_duplicates_resend_the_identical_bytes(self, sandbox: Harness) -> None:
        """A duplicated delivery arrives twice with the same body and signature."""
        sandbox.faults(webhookDuplicateRate=1.0)
        trigger(sandbox)
        first, second = sandbox.sink.wait_for(2, sandbox.hook_path)
        assert first.body == second.body
        assert (
            first.headers["x-voiceproductionai-signature"]
            == second.headers["x-voiceproductionai-signature"]
        )
        original, duplicate = sandbox.deliveries()
        assert duplicate["duplicateOf"] == original["id"]

    def test_delayed_deliveries_wait(self, sandbox: Harness) -> None:
        """A delayed delivery is sent no sooner than `webhookDelaySeconds` after the event."""
        sandbox.faults(webhookDelayRate=1.0, webhookDelaySeconds=0.4)
        started = time.monotonic()
        trigger(sandbox)
        (received,) = sandbox.sink.wait_for(1, sandbox.hook_path)
        assert received.at - started >= 0.4
        assert sandbox.deliveries()[0]["delayed"] is True

    def test_delays_follow_the_sandbox_clock(self, clocked: Harness) -> None:
        """On the clocked sandbox a delayed delivery goes out when the clock is advanced."""
        clocked.faults(webhookDelayRate=1.0, webhookDelaySeconds=3600)
        trigger(clocked)
        wait_for(lambda: clocked.deliveries() != [], description="the delivery is scheduled")
        [delivery] = clocked.deliveries()
        assert delivery["delayed"] is True
        assert delivery["state"] == "pending"
        assert delivery["attempts"] == []  # held back: not even tried
        assert clocked.sink.received(clocked.hook_path) == []
        clocked.advance(3600)
        clocked.sink.wait_for(1, clocked.hook_path)

    def test_reordered_deliveries_arrive_after_a_later_event(self, sandbox: Harness) -> None:
        """A held delivery is overtaken: the later event is received first."""
        sandbox.faults(webhookReorderRate=1.0, webhookDelaySeconds=5)
        earlier = trigger(sandbox, "generation.failed")
        sandbox.faults(webhookReorderRate=0.0)
        later = trigger(sandbox, "voice.cloned")
        first, second = sandbox.sink.wait_for(2, sandbox.hook_path)
        assert orjson.loads(first.body)["data"]["id"] == later["data"]["id"]
        assert orjson.loads(second.body)["data"]["id"] == earlier["data"]["id"]
        assert second.at - first.at < 2

    def test_events_can_carry_expired_download_urls(self, sandbox: Harness) -> None:
        """With the fault on, generation.ready's downloadUrl is already dead; a GET revives it."""
        sandbox.faults(expiredUrlRate=1.0)
        generation_id = sandbox.submit()
        (received,) = sandbox.sink.wait_for(1, sandbox.hook_path)
        stale = orjson.loads(received.body)["data"]["downloadUrl"]
        response = sandbox.files.get(stale)
        assert (response.status_code, response.json()["error"]) == (403, "url_expired")
        fresh = sandbox.generation(generation_id)["downloadUrl"]
        assert sandbox.files.get(fresh).status_code == 200


class TestDownloadFaults:
    def test_truncated_downloads_are_cut_off(self, sandbox: Harness) -> None:
        """The full Content-Length is announced, part of the body sent, the connection dropped."""
        generation = sandbox.ready_generation("wav", durationSec=30, notify=False)
        sandbox.faults(downloadTruncateRate=1.0)
        announced: list[int] = []
        received: list[int] = []

        def download() -> None:
            with sandbox.files.stream("GET", generation["downloadUrl"]) as response:
                announced.append(int(response.headers["content-length"]))
                received.extend(len(chunk) for chunk in response.iter_bytes())

        with pytest.raises(httpx.RemoteProtocolError):
            download()
        size = generation["sizeBytes"]
        assert announced == [size]
        assert 0.1 * size <= sum(received) < 0.9 * size

    def test_corrupted_downloads_keep_their_length_but_not_their_bytes(
        self, sandbox: Harness
    ) -> None:
        """A corrupted file is as long as the original but no longer parses as a wav."""
        generation = sandbox.ready_generation("wav", durationSec=5, notify=False)
        clean = sandbox.files.get(generation["downloadUrl"]).content
        sandbox.faults(downloadCorruptRate=1.0)
        corrupted = sandbox.files.get(generation["downloadUrl"]).content
        assert len(corrupted) == len(clean)
        assert corrupted != clean
        with pytest.raises((wave.Error, EOFError)), wave.open(BytesIO(corrupted)):
            pass

    def test_slow_downloads_are_throttled(self, sandbox: Harness) -> None:
        """At 100 KB/s a 66 KB file takes more than half a second, and arrives whole."""
        generation = sandbox.ready_generation("wav", durationSec=1.5, notify=False)
        sandbox.faults(downloadSlowRate=1.0, downloadSlowBytesPerSecond=100_000)
        started = time.monotonic()
        response = sandbox.files.get(generation["downloadUrl"])
        assert time.monotonic() - started >= 0.5
        assert len(response.content) == generation["sizeBytes"]


class TestFaultSettings:
    def test_are_readable_with_the_seed(self, sandbox: Harness) -> None:
        """GET /sandbox/faults shows every knob and the seed in force."""
        faults = sandbox.control.get("/faults").json()
        assert faults["seed"] == 1234
        assert faults["generationFailureRate"] == 0.0
        assert faults["force429"] == 0

    @pytest.mark.parametrize(
        "change", [{"apiErrorRate": 2}, {"noSuchKnob": 1}, {"seed": "x"}, {"force429": -1}]
    )
    def test_bad_settings_are_refused(self, sandbox: Harness, change: dict[str, object]) -> None:
        """Out-of-range, unknown or mistyped settings are 400 and change nothing."""
        response = sandbox.control.patch("/faults", json=change)
        assert response.status_code == 400
        assert sandbox.control.get("/faults").json()["apiErrorRate"] == 0.0

    def test_reset_turns_faults_off(self, sandbox: Harness) -> None:
        """A reset returns to the faults the sandbox started with."""
        sandbox.faults(apiErrorRate=1.0, seed=9)
        sandbox.reset()
        faults = sandbox.control.get("/faults").json()
        assert (faults["apiErrorRate"], faults["seed"]) == (0.0, 1234)
