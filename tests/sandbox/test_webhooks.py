"""Webhook delivery over real HTTP: signatures, bodies, retries, endpoints and the log."""

from __future__ import annotations

import re
from typing import Any

import orjson

from tests.sandbox.conftest import HOOK_SECRET, IMPATIENT_TIMEOUT_SECONDS
from tests.sandbox.harness import Harness, openssl_signature
from tests.sandbox.sink import Reply

ISO_MILLIS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def trigger(harness: Harness, event: str, **extra: str) -> dict[str, Any]:
    response = harness.control.post("/trigger", json={"event": event, **extra})
    assert response.status_code == 202, response.text
    result: dict[str, Any] = response.json()
    return result


class TestDelivery:
    def test_a_ready_generation_is_announced_with_a_valid_signature(self, sandbox: Harness) -> None:
        """generation.ready arrives as JSON whose signature OpenSSL agrees with, byte for byte."""
        generation_id = sandbox.submit()
        (received,) = sandbox.sink.wait_for(1, sandbox.hook_path)
        assert received.headers["content-type"] == "application/json"
        signature = received.headers["x-voiceproductionai-signature"]
        assert signature == openssl_signature(received.body, HOOK_SECRET)
        body = orjson.loads(received.body)
        assert set(body) == {"event", "timestamp", "data"}
        assert body["event"] == "generation.ready"
        assert ISO_MILLIS.match(body["timestamp"])
        assert body["data"]["id"] == generation_id

    def test_data_is_the_resource_as_get_shows_it(self, sandbox: Harness) -> None:
        """The event's data equals GET /v1/generations/:id, and its downloadUrl works."""
        generation_id = sandbox.submit()
        (received,) = sandbox.sink.wait_for(1, sandbox.hook_path)
        data = orjson.loads(received.body)["data"]
        view = sandbox.generation(generation_id)
        assert {**data, "downloadUrl": None} == {**view, "downloadUrl": None}
        assert sandbox.files.get(data["downloadUrl"]).status_code == 200

    def test_a_failed_generation_is_announced(self, sandbox: Harness) -> None:
        """generation.failed carries the failed generation with its error."""
        sandbox.faults(generationFailureRate=1.0)
        generation_id = sandbox.submit()
        (received,) = sandbox.sink.wait_for(1, sandbox.hook_path)
        body = orjson.loads(received.body)
        assert body["event"] == "generation.failed"
        assert body["data"]["id"] == generation_id
        assert body["data"]["status"] == "failed"
        assert body["data"]["error"]

    def test_failures_are_retried_with_identical_bytes(self, sandbox: Harness) -> None:
        """After 500, 503 and 200, the three attempts carried the same body and signature."""
        sandbox.sink.plan(sandbox.hook_path, Reply(500), Reply(503), Reply(200))
        trigger(sandbox, "generation.ready")
        attempts = sandbox.sink.wait_for(3, sandbox.hook_path)
        assert len({a.body for a in attempts}) == 1
        assert len({a.headers["x-voiceproductionai-signature"] for a in attempts}) == 1
        (delivery,) = sandbox.deliveries()
        delivery = sandbox.wait_for_delivery_state(delivery["id"], "delivered")
        assert [a["statusCode"] for a in delivery["attempts"]] == [500, 503, 200]
        assert delivery["body"].encode() == attempts[0].body

    def test_retries_follow_the_schedule(self, sandbox: Harness) -> None:
        """The waits between attempts are at least the configured 0.1 s, then 0.2 s."""
        sandbox.sink.plan(sandbox.hook_path, Reply(500), Reply(500), Reply(200))
        trigger(sandbox, "generation.ready")
        first, second, third = sandbox.sink.wait_for(3, sandbox.hook_path)
        assert second.at - first.at >= 0.09
        assert third.at - second.at >= 0.19

    def test_a_timeout_counts_as_a_failure(self, impatient: Harness) -> None:
        """An endpoint slower than the timeout is logged as `timeout` and tried again."""
        slow = Reply(200, delay=2 * IMPATIENT_TIMEOUT_SECONDS)
        impatient.sink.plan(impatient.hook_path, slow, Reply(200))
        trigger(impatient, "generation.ready")
        impatient.sink.wait_for(2, impatient.hook_path)
        (delivery,) = impatient.deliveries()
        delivery = impatient.wait_for_delivery_state(delivery["id"], "delivered")
        assert delivery["attempts"][0]["error"] == "timeout"
        assert delivery["attempts"][0]["statusCode"] is None
        assert delivery["attempts"][1]["statusCode"] == 200

    def test_gives_up_after_the_last_retry(self, sandbox: Harness) -> None:
        """With every attempt refused, it stops after 1 + len(schedule) attempts, `failed`."""
        sandbox.sink.plan(sandbox.hook_path, *[Reply(410)] * 10)
        trigger(sandbox, "generation.ready")
        (delivery,) = sandbox.deliveries()
        delivery = sandbox.wait_for_delivery_state(delivery["id"], "failed")
        assert [a["statusCode"] for a in delivery["attempts"]] == [410] * 4
        assert len(sandbox.sink.received(sandbox.hook_path)) == 4

    def test_an_unreachable_endpoint_is_retried(self, sandbox: Harness) -> None:
        """A refused connection is logged as an error, and retried like any failure."""
        sandbox.control.post(
            "/webhook-endpoints", json={"url": "http://127.0.0.1:9/closed", "secret": "s"}
        )
        trigger(sandbox, "voice.cloned")
        closed = next(d for d in sandbox.deliveries() if d["url"].endswith("/closed"))
        closed = sandbox.wait_for_delivery_state(closed["id"], "failed")
        assert len(closed["attempts"]) == 4
        assert all(a["error"] and a["statusCode"] is None for a in closed["attempts"])


class TestRetriesOnTheClock:
    def test_a_retry_waits_for_the_sandbox_clock(self, clocked: Harness) -> None:
        """With a 30 s first retry, nothing is resent until the clock is advanced by 30 s."""
        clocked.sink.plan(clocked.hook_path, Reply(500), Reply(200))
        trigger(clocked, "generation.ready")
        clocked.sink.wait_for(1, clocked.hook_path)
        (delivery,) = clocked.deliveries()
        clocked.wait_for_delivery_state(delivery["id"], "pending")
        clocked.advance(29)
        assert len(clocked.sink.received(clocked.hook_path)) == 1
        clocked.advance(1)
        clocked.sink.wait_for(2, clocked.hook_path)
        clocked.wait_for_delivery_state(delivery["id"], "delivered")


class TestEndpoints:
    def test_each_endpoint_signs_with_its_own_secret(self, sandbox: Harness) -> None:
        """An endpoint registered through the control API gets bodies signed with its secret."""
        response = sandbox.control.post(
            "/webhook-endpoints", json={"url": sandbox.sink.url + "/second", "secret": "s3cret"}
        )
        assert response.status_code == 201
        trigger(sandbox, "generation.failed")
        (second,) = sandbox.sink.wait_for(1, "/second")
        (first,) = sandbox.sink.wait_for(1, sandbox.hook_path)
        assert second.body == first.body
        assert second.headers["x-voiceproductionai-signature"] == openssl_signature(
            second.body, "s3cret"
        )

    def test_a_generated_secret_is_returned(self, sandbox: Harness) -> None:
        """Registering without a secret gets a fresh `whsec_` one, listed with the endpoint."""
        created = sandbox.control.post(
            "/webhook-endpoints", json={"url": sandbox.sink.url + "/generated"}
        ).json()
        assert created["secret"].startswith("whsec_")
        listed = sandbox.control.get("/webhook-endpoints").json()["items"]
        assert created in listed

    def test_an_empty_secret_is_refused(self, sandbox: Harness) -> None:
        """An endpoint whose secret is blank would accept forgeries: 400."""
        response = sandbox.control.post(
            "/webhook-endpoints", json={"url": sandbox.sink.url + "/x", "secret": " "}
        )
        assert response.status_code == 400

    def test_a_deleted_endpoint_gets_nothing(self, sandbox: Harness) -> None:
        """After DELETE, events go only to the endpoints that remain."""
        (endpoint,) = sandbox.control.get("/webhook-endpoints").json()["items"]
        assert sandbox.control.delete(f"/webhook-endpoints/{endpoint['id']}").status_code == 204
        answer = trigger(sandbox, "generation.ready")
        assert answer["deliveries"] == []
        assert sandbox.control.delete(f"/webhook-endpoints/{endpoint['id']}").status_code == 404

    def test_events_go_to_their_own_workspace_only(self, sandbox: Harness) -> None:
        """Another workspace's generation is not announced to the default workspace's endpoint."""
        workspace = sandbox.workspace()
        sandbox.control.post(
            "/webhook-endpoints",
            json={"url": sandbox.sink.url + "/other", "workspaceId": workspace["id"]},
        )
        with sandbox.client_for(workspace["apiKeys"][0]) as client:
            generation_id = sandbox.submit(client=client)
        (received,) = sandbox.sink.wait_for(1, "/other")
        assert orjson.loads(received.body)["data"]["id"] == generation_id
        assert sandbox.sink.received(sandbox.hook_path) == []


class TestDeliveryLog:
    def test_records_every_attempt(self, sandbox: Harness) -> None:
        """Each delivery shows event, endpoint, body, signature, state and timed attempts."""
        sandbox.sink.plan(sandbox.hook_path, Reply(502), Reply(204))
        answer = trigger(sandbox, "generation.ready")
        (delivery,) = sandbox.deliveries()
        delivery = sandbox.wait_for_delivery_state(delivery["id"], "delivered")
        assert delivery["event"] == "generation.ready"
        assert delivery["resourceId"] == answer["data"]["id"]
        assert delivery["url"] == sandbox.sink.url + sandbox.hook_path
        assert delivery["signature"] == openssl_signature(delivery["body"].encode(), HOOK_SECRET)
        assert ISO_MILLIS.match(delivery["createdAt"])
        for attempt in delivery["attempts"]:
            assert ISO_MILLIS.match(attempt["startedAt"])
            assert attempt["finishedAt"] >= attempt["startedAt"]
        assert [(a["number"], a["statusCode"]) for a in delivery["attempts"]] == [
            (1, 502),
            (2, 204),
        ]

    def test_can_be_filtered(self, sandbox: Harness) -> None:
        """The log filters by event and by resource id."""
        ready = trigger(sandbox, "generation.ready")
        trigger(sandbox, "voice.cloned")
        assert [d["event"] for d in sandbox.deliveries(event="voice.cloned")] == ["voice.cloned"]
        by_resource = sandbox.deliveries(resourceId=ready["data"]["id"])
        assert [d["event"] for d in by_resource] == ["generation.ready"]
