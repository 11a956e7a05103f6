"""Every endpoint and every error row of the contract, over real HTTP."""

from __future__ import annotations

import re
import uuid

import pytest

from sandbox.voices import PRESET_VOICES
from tests.sandbox.harness import EMMA, Harness

ISO_SECONDS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


class TestAuthentication:
    @pytest.mark.parametrize(
        ("method", "path"),
        [
            ("GET", "/v1/voices"),
            ("POST", "/v1/generations"),
            # A fixed id: every xdist worker must collect the same test ids.
            ("GET", "/v1/generations/0b6c1f9e-3d2a-4c5b-8e7f-1a2b3c4d5e6f"),
            ("POST", "/v1/uploads?filename=a.wav"),
            ("POST", "/v1/voices/clone"),
        ],
    )
    @pytest.mark.parametrize("key", [None, "vk_live_wrong"])
    def test_every_endpoint_needs_a_valid_key(
        self, sandbox: Harness, method: str, path: str, key: str | None
    ) -> None:
        """No key or an unknown key is 401 `{"error": "unauthorized"}`, before anything else."""
        with sandbox.client_for(key) as client:
            response = client.request(method, path, content=b"not even json")
        assert response.status_code == 401
        assert response.json() == {"error": "unauthorized"}
        assert response.headers["content-type"] == "application/json"

    def test_a_key_must_be_sent_as_bearer(self, sandbox: Harness) -> None:
        """The right key in another scheme is still 401."""
        response = sandbox.files.get(
            sandbox.url + "/v1/voices", headers={"Authorization": "Token vk_test_sandbox"}
        )
        assert response.status_code == 401


class TestPlans:
    @pytest.mark.parametrize("plan", ["free", "pro"])
    def test_the_public_api_needs_scale(self, sandbox: Harness, plan: str) -> None:
        """Free and Pro keys get 403 public_api_requires_scale on the API."""
        workspace = sandbox.workspace(plan=plan)
        with sandbox.client_for(workspace["apiKeys"][0]) as client:
            voices = client.get("/v1/voices")
            generation = client.post("/v1/generations", json={"voiceId": EMMA, "script": "Hi"})
        for response in (voices, generation):
            assert response.status_code == 403
            assert response.json() == {"error": "public_api_requires_scale"}

    def test_cloning_on_free_needs_a_paid_plan(self, sandbox: Harness) -> None:
        """A Free workspace asking to clone gets 403 cloning_requires_paid_plan."""
        workspace = sandbox.workspace(plan="free")
        with sandbox.client_for(workspace["apiKeys"][0]) as client:
            response = client.post("/v1/voices/clone", json={"samplePaths": ["uploads/a.wav"]})
        assert response.status_code == 403
        assert response.json() == {"error": "cloning_requires_paid_plan"}

    def test_cloning_on_pro_needs_scale_for_the_api(self, sandbox: Harness) -> None:
        """A Pro workspace may clone, but not through the public API: the Scale 403."""
        workspace = sandbox.workspace(plan="pro")
        with sandbox.client_for(workspace["apiKeys"][0]) as client:
            response = client.post("/v1/voices/clone", json={"samplePaths": ["uploads/a.wav"]})
        assert response.json() == {"error": "public_api_requires_scale"}

    def test_upgrading_takes_effect_at_once(self, sandbox: Harness) -> None:
        """Moving a workspace to Scale through the control API opens the API to its keys."""
        workspace = sandbox.workspace(plan="pro")
        sandbox.control.patch(f"/workspaces/{workspace['id']}", json={"plan": "scale"})
        with sandbox.client_for(workspace["apiKeys"][0]) as client:
            assert client.get("/v1/voices").status_code == 200


class TestVoices:
    def test_lists_the_presets_with_stable_ids(self, sandbox: Harness) -> None:
        """`{"items": [...]}` with every preset: id, name, kind preset, language."""
        response = sandbox.api.get("/v1/voices")
        assert response.status_code == 200
        items = response.json()["items"]
        assert [v["id"] for v in items] == [v.id for v in PRESET_VOICES]
        assert {v["language"] for v in items} >= {"en", "es", "de", "fr"}
        emma = items[0]
        assert (emma["id"], emma["name"], emma["kind"], emma["language"]) == (
            EMMA,
            "Emma",
            "preset",
            "en",
        )
        assert all(uuid.UUID(v["id"]) for v in items)


class TestCreateGeneration:
    def test_accepts_with_202_and_an_estimate(self, sandbox: Harness) -> None:
        """A valid body gets 202 `{"id", "status": "queued", "estimatedCredits"}`."""
        body = {
            "voiceId": EMMA,
            "script": "Hello, world!",
            "format": "mp3",
            "settings": {"speed": 1.0, "pitchSemitones": 0},
        }
        response = sandbox.api.post("/v1/generations", json=body)
        assert response.status_code == 202
        answer = response.json()
        assert set(answer) == {"id", "status", "estimatedCredits"}
        assert answer["status"] == "queued"
        assert answer["estimatedCredits"] == 1
        uuid.UUID(answer["id"])

    def test_charges_the_estimate(self, sandbox: Harness) -> None:
        """A 250-character script is estimated at 3 credits and 3 are taken from the balance."""
        before = sandbox.default_workspace()["credits"]
        response = sandbox.api.post("/v1/generations", json={"voiceId": EMMA, "script": "a" * 250})
        assert response.json()["estimatedCredits"] == 3
        assert sandbox.default_workspace()["credits"] == before - 3

    def test_too_few_credits_is_402_and_charges_nothing(self, sandbox: Harness) -> None:
        """With a balance below the estimate the answer is 402 insufficient_credits."""
        workspace = sandbox.workspace(credits=2)
        with sandbox.client_for(workspace["apiKeys"][0]) as client:
            refused = client.post("/v1/generations", json={"voiceId": EMMA, "script": "a" * 250})
            accepted = client.post("/v1/generations", json={"voiceId": EMMA, "script": "a" * 200})
        assert refused.status_code == 402
        assert refused.json() == {"error": "insufficient_credits"}
        assert accepted.status_code == 202
        assert sandbox.control.get(f"/workspaces/{workspace['id']}").json()["credits"] == 0

    @pytest.mark.parametrize(
        "body",
        [
            {},
            {"script": "Hi"},
            {"voiceId": "emma", "script": "Hi"},
            {"voiceId": EMMA, "script": ""},
            {"voiceId": EMMA, "script": "Hi", "format": "flac"},
            {"voiceId": EMMA, "script": "Hi", "settings": {"speed": 0.1}},
            {"voiceId": EMMA, "script": "Hi", "settings": {"pitchSemitones": 24}},
            {"voiceId": EMMA, "script": "x" * 5001},
        ],
    )
    def test_malformed_bodies_are_400(self, sandbox: Harness, body: dict[str, object]) -> None:
        """Bad fields, missing fields or an overlong script: 400 invalid_request."""
        response = sandbox.api.post("/v1/generations", json=body)
        assert response.status_code == 400
        assert response.json()["error"] == "invalid_request"

    def test_a_body_that_is_not_json_is_400(self, sandbox: Harness) -> None:
        """Garbage bytes are a 400 too, not a 500."""
        response = sandbox.api.post("/v1/generations", content=b"\x00\x01{")
        assert response.status_code == 400
        assert response.json()["error"] == "invalid_request"

    def test_an_unknown_voice_is_404(self, sandbox: Harness) -> None:
        """A well-formed voiceId that names no voice of the workspace is 404 not_found."""
        response = sandbox.api.post(
            "/v1/generations", json={"voiceId": str(uuid.uuid4()), "script": "Hi"}
        )
        assert response.status_code == 404
        assert response.json() == {"error": "not_found", "message": response.json()["message"]}


class TestGetGeneration:
    def test_shows_the_contract_fields(self, sandbox: Harness) -> None:
        """id, status, durationSec, downloadUrl, createdAt, completedAt, with ISO-8601 Z times."""
        generation_id = sandbox.submit()
        view = sandbox.generation(generation_id)
        assert set(view) == {
            "id",
            "status",
            "durationSec",
            "downloadUrl",
            "createdAt",
            "completedAt",
        }
        assert view["id"] == generation_id
        assert ISO_SECONDS.match(view["createdAt"])
        ready = sandbox.wait_for_status(generation_id, "ready")
        view = sandbox.generation(generation_id)
        assert view["status"] == "ready"
        assert ISO_SECONDS.match(view["completedAt"])
        assert view["durationSec"] == ready["durationSec"] > 0
        assert view["downloadUrl"].startswith(sandbox.url + f"/files/{generation_id}.wav?")

    def test_no_download_url_before_ready(self, clocked: Harness) -> None:
        """A generation still in progress has null durationSec, downloadUrl and completedAt."""
        view = clocked.generation(clocked.submit())
        assert view["status"] == "queued"
        assert (view["durationSec"], view["downloadUrl"], view["completedAt"]) == (None,) * 3

    def test_unknown_ids_are_404(self, sandbox: Harness) -> None:
        """An id that names nothing, or is not even a uuid, is 404 not_found."""
        for generation_id in (str(uuid.uuid4()), "nope"):
            response = sandbox.api.get(f"/v1/generations/{generation_id}")
            assert response.status_code == 404
            assert response.json() == {"error": "not_found"}

    def test_another_workspaces_generation_is_404(self, sandbox: Harness) -> None:
        """Generations are scoped to their workspace: someone else's key cannot see them."""
        generation_id = sandbox.submit()
        workspace = sandbox.workspace()
        with sandbox.client_for(workspace["apiKeys"][0]) as client:
            assert client.get(f"/v1/generations/{generation_id}").status_code == 404


class TestUploads:
    def test_stores_the_body_under_uploads(self, sandbox: Harness) -> None:
        """The raw body with `?filename=` is answered with `{"path": "uploads/<name>"}`."""
        response = sandbox.api.post("/v1/uploads?filename=sample1.wav", content=b"RIFF" * 100)
        assert response.status_code == 201
        assert response.json() == {"path": "uploads/sample1.wav"}

    @pytest.mark.parametrize(
        ("query", "content"),
        [
            ("", b"data"),
            ("?filename=../../etc/passwd", b"data"),
            ("?filename=a.wav", b""),
            ("?filename=big.wav", b"x" * (1024 * 1024 + 1)),
        ],
    )
    def test_bad_uploads_are_400(self, sandbox: Harness, query: str, content: bytes) -> None:
        """No name, a path-like name, an empty body or one over the limit: 400."""
        response = sandbox.api.post(f"/v1/uploads{query}", content=content)
        assert response.status_code == 400
        assert response.json()["error"] == "invalid_request"


class TestUnknownRoutes:
    def test_answer_json_errors(self, sandbox: Harness) -> None:
        """Unknown paths are JSON 404s, wrong methods JSON 405s."""
        missing = sandbox.api.get("/v1/nothing-here")
        assert (missing.status_code, missing.json()) == (404, {"error": "not_found"})
        wrong = sandbox.api.delete("/v1/voices")
        assert (wrong.status_code, wrong.json()) == (405, {"error": "method_not_allowed"})
