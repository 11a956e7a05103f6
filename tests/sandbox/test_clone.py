"""Voice cloning end to end: upload samples, clone, voice.cloned, the voice in use."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from tests.sandbox.harness import Harness


def upload(harness: Harness, name: str, client: Any = None) -> str:
    response = (client or harness.api).post(f"/v1/uploads?filename={name}", content=b"RIFF" * 64)
    assert response.status_code == 201, response.text
    path: str = response.json()["path"]
    return path


class TestCloneFlow:
    def test_from_samples_to_a_usable_voice(self, sandbox: Harness) -> None:
        """Upload → clone (202 queued) → voice.cloned with the voice → listed → usable."""
        paths = [upload(sandbox, "sample1.wav"), upload(sandbox, "sample2.wav")]
        response = sandbox.api.post(
            "/v1/voices/clone", json={"samplePaths": paths, "name": "Narrator", "language": "de"}
        )
        assert response.status_code == 202
        job = response.json()
        assert set(job) == {"id", "status"}
        assert job["status"] == "queued"

        (received,) = sandbox.sink.wait_for(1, sandbox.hook_path)
        body = orjson.loads(received.body)
        assert body["event"] == "voice.cloned"
        voice = body["data"]
        assert voice["cloneJobId"] == job["id"]
        assert (voice["kind"], voice["name"], voice["language"]) == ("cloned", "Narrator", "de")

        listed = sandbox.api.get("/v1/voices").json()["items"]
        assert listed[-1] == voice

        generation = sandbox.api.post(
            "/v1/generations", json={"voiceId": voice["id"], "script": "Guten Tag!"}
        )
        assert generation.status_code == 202

    def test_cloned_voices_are_private_to_their_workspace(self, sandbox: Harness) -> None:
        """Another workspace neither lists nor can use someone else's cloned voice."""
        path = upload(sandbox, "me.wav")
        sandbox.api.post("/v1/voices/clone", json={"samplePaths": [path]})
        (received,) = sandbox.sink.wait_for(1, sandbox.hook_path)
        voice_id = orjson.loads(received.body)["data"]["id"]
        workspace = sandbox.workspace()
        with sandbox.client_for(workspace["apiKeys"][0]) as client:
            listed = [v["id"] for v in client.get("/v1/voices").json()["items"]]
            used = client.post("/v1/generations", json={"voiceId": voice_id, "script": "Hi"})
        assert voice_id not in listed
        assert used.status_code == 404

    def test_unnamed_voices_get_a_name(self, sandbox: Harness) -> None:
        """Without a name the voice is called `Cloned voice N`."""
        path = upload(sandbox, "a.wav")
        sandbox.api.post("/v1/voices/clone", json={"samplePaths": [path]})
        (received,) = sandbox.sink.wait_for(1, sandbox.hook_path)
        assert orjson.loads(received.body)["data"]["name"] == "Cloned voice 1"


class TestCloneValidation:
    @pytest.mark.parametrize(
        "body",
        [
            {},
            {"samplePaths": []},
            {"samplePaths": "uploads/a.wav"},
            {"samplePaths": ["uploads/never-uploaded.wav"]},
            {"samplePaths": ["a.wav"]},
        ],
    )
    def test_bad_sample_lists_are_400(self, sandbox: Harness, body: dict[str, object]) -> None:
        """No samples, a non-list, or a path that was not uploaded: 400 invalid_request."""
        response = sandbox.api.post("/v1/voices/clone", json=body)
        assert response.status_code == 400
        assert response.json()["error"] == "invalid_request"

    def test_another_workspaces_upload_is_unknown(self, sandbox: Harness) -> None:
        """Uploads are per workspace: a path uploaded elsewhere is 400 here."""
        workspace = sandbox.workspace()
        with sandbox.client_for(workspace["apiKeys"][0]) as client:
            path = upload(sandbox, "theirs.wav", client)
        response = sandbox.api.post("/v1/voices/clone", json={"samplePaths": [path]})
        assert response.status_code == 400


class TestCloneOnTheClock:
    def test_the_job_completes_when_the_clock_says(self, clocked: Harness) -> None:
        """The voice appears only after the clone time has passed on the sandbox clock."""
        path = upload(clocked, "s.wav")
        clocked.api.post("/v1/voices/clone", json={"samplePaths": [path]})
        clocked.advance(29)
        assert len(clocked.api.get("/v1/voices").json()["items"]) == 6
        clocked.advance(1)
        assert len(clocked.api.get("/v1/voices").json()["items"]) == 7
        clocked.sink.wait_for(1, clocked.hook_path)
