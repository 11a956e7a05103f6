"""The control API: reset, clock, workspaces and keys, usage counts, triggers, shortcuts."""

from __future__ import annotations

import orjson
import pytest

from tests.sandbox.harness import EMMA, Harness


class TestOverview:
    def test_says_how_to_call_the_sandbox(self, sandbox: Harness) -> None:
        """GET /sandbox/ names the API base URL, the key, the seed and the endpoints."""
        overview = sandbox.control.get("/").json()
        assert overview["apiBaseUrl"] == sandbox.url + "/v1"
        assert overview["apiKey"] == "vk_test_sandbox"
        assert overview["seed"] == 1234
        assert [e["url"] for e in overview["webhookEndpoints"]] == [
            sandbox.sink.url + sandbox.hook_path
        ]


class TestReset:
    def test_forgets_everything_made_since_start(self, sandbox: Harness) -> None:
        """After a reset, generations and workspaces are gone and the balance is restored."""
        generation_id = sandbox.submit("a" * 500)
        workspace = sandbox.workspace()
        sandbox.reset()
        assert sandbox.default_workspace()["credits"] == 1000
        assert sandbox.default_workspace()["requests"]["served"] == 0
        assert sandbox.api.get(f"/v1/generations/{generation_id}").status_code == 404
        assert sandbox.control.get(f"/workspaces/{workspace['id']}").status_code == 404


class TestClock:
    def test_advances_and_reports(self, sandbox: Harness) -> None:
        """Advancing adds to the offset; the clock reports its time and offset."""
        before = sandbox.control.get("/clock").json()
        after = sandbox.control.post("/clock/advance", json={"seconds": 90}).json()
        assert after["offsetSeconds"] == before["offsetSeconds"] + 90
        assert after["now"] > before["now"]

    @pytest.mark.parametrize("body", [{"seconds": -1}, {}, {"seconds": "5"}])
    def test_refuses_to_go_back_or_guess(self, sandbox: Harness, body: dict[str, object]) -> None:
        """A negative or missing amount is a 400."""
        assert sandbox.control.post("/clock/advance", json=body).status_code == 400


class TestWorkspaces:
    def test_created_with_plan_credits_and_a_key(self, sandbox: Harness) -> None:
        """A new workspace has the plan and credits asked for and a working key."""
        response = sandbox.control.post(
            "/workspaces", json={"plan": "scale", "credits": 7, "apiKey": "vk_test_mine"}
        )
        assert response.status_code == 201
        workspace = response.json()
        assert (workspace["plan"], workspace["credits"], workspace["apiKeys"]) == (
            "scale",
            7,
            ["vk_test_mine"],
        )
        with sandbox.client_for("vk_test_mine") as client:
            assert client.get("/v1/voices").status_code == 200

    def test_a_taken_key_is_refused(self, sandbox: Harness) -> None:
        """Keys are unique across workspaces."""
        response = sandbox.control.post("/workspaces", json={"apiKey": "vk_test_sandbox"})
        assert response.status_code == 400

    def test_more_keys_reach_the_same_workspace(self, sandbox: Harness) -> None:
        """A key added to the default workspace sees its generations."""
        key = sandbox.control.post("/workspaces/default/keys", json={}).json()["key"]
        generation_id = sandbox.submit()
        with sandbox.client_for(key) as client:
            assert client.get(f"/v1/generations/{generation_id}").status_code == 200

    def test_plan_and_credits_can_be_set(self, sandbox: Harness) -> None:
        """PATCH changes the plan and the balance."""
        response = sandbox.control.patch("/workspaces/default", json={"plan": "pro", "credits": 3})
        assert (response.json()["plan"], response.json()["credits"]) == ("pro", 3)
        assert sandbox.api.get("/v1/voices").status_code == 403

    @pytest.mark.parametrize("body", [{"plan": "enterprise"}, {"credits": -1}])
    def test_bad_changes_are_refused(self, sandbox: Harness, body: dict[str, object]) -> None:
        """An unknown plan or a negative balance is a 400."""
        assert sandbox.control.patch("/workspaces/default", json=body).status_code == 400

    def test_unknown_workspaces_are_404(self, sandbox: Harness) -> None:
        """The control API answers 404 for a workspace that does not exist."""
        assert sandbox.control.get("/workspaces/nope").status_code == 404

    def test_counts_served_and_rate_limited_requests(self, sandbox: Harness) -> None:
        """Each workspace reports how many API requests it was served and how many got 429."""
        for _ in range(3):
            sandbox.api.get("/v1/voices")
        sandbox.faults(force429=1)
        sandbox.api.get("/v1/voices")
        requests = sandbox.default_workspace()["requests"]
        assert requests == {"served": 3, "rateLimited": 1, "inCurrentWindow": 3}
        listed = sandbox.control.get("/workspaces").json()["items"]
        assert listed[0]["requests"] == requests


class TestTrigger:
    @pytest.mark.parametrize("event", ["generation.ready", "generation.failed", "voice.cloned"])
    def test_sends_one_event_for_a_fresh_resource(self, sandbox: Harness, event: str) -> None:
        """Triggering makes a new resource in the right state and delivers its event."""
        answer = sandbox.control.post("/trigger", json={"event": event}).json()
        (received,) = sandbox.sink.wait_for(1, sandbox.hook_path)
        body = orjson.loads(received.body)
        assert body["event"] == event
        assert body["data"] == answer["data"]
        if event.startswith("generation."):
            expected = event.removeprefix("generation.")
            assert sandbox.generation(answer["data"]["id"])["status"] == expected

    def test_resends_for_an_existing_resource(self, sandbox: Harness) -> None:
        """With an id, the event is sent again for that resource: same data.id."""
        generation_id = sandbox.submit()
        sandbox.sink.wait_for(1, sandbox.hook_path)
        sandbox.control.post("/trigger", json={"event": "generation.ready", "id": generation_id})
        first, second = sandbox.sink.wait_for(2, sandbox.hook_path)
        assert orjson.loads(first.body)["data"]["id"] == generation_id
        assert orjson.loads(second.body)["data"]["id"] == generation_id

    @pytest.mark.parametrize(
        "body",
        [{"event": "generation.started"}, {"event": "generation.ready", "id": "nope"}],
    )
    def test_refuses_unknown_events_and_resources(
        self, sandbox: Harness, body: dict[str, object]
    ) -> None:
        """An event outside the contract is 400; an unknown resource is 404."""
        response = sandbox.control.post("/trigger", json=body)
        assert response.status_code == (404 if "id" in body else 400)


class TestGenerationShortcut:
    def test_failed_outcome_with_a_reason(self, sandbox: Harness) -> None:
        """`outcome: failed` makes a failed generation with the given error, announced."""
        generation = sandbox.control.post(
            "/generations", json={"outcome": "failed", "error": "voice_unavailable"}
        ).json()
        assert (generation["status"], generation["error"]) == ("failed", "voice_unavailable")
        (received,) = sandbox.sink.wait_for(1, sandbox.hook_path)
        assert orjson.loads(received.body)["event"] == "generation.failed"

    def test_progress_outcome_goes_through_the_phases(self, sandbox: Harness) -> None:
        """`outcome: progress` behaves like an API submission, outside budget and credits."""
        generation = sandbox.control.post(
            "/generations", json={"outcome": "progress", "voiceId": EMMA, "durationSec": 2}
        ).json()
        assert generation["status"] == "queued"
        ready = sandbox.wait_for_status(generation["id"], "ready")
        assert ready["durationSec"] == 2
        assert sandbox.default_workspace()["requests"]["served"] == 0

    def test_notify_false_sends_nothing(self, sandbox: Harness) -> None:
        """A shortcut generation with `notify: false` is not announced."""
        sandbox.ready_generation(notify=False)
        assert sandbox.deliveries() == []

    def test_an_unknown_voice_is_404(self, sandbox: Harness) -> None:
        """The shortcut checks the voice like the API does."""
        response = sandbox.control.post("/generations", json={"voiceId": "nope"})
        assert response.status_code == 404
