"""Generations over HTTP: progress on the clock, real audio, signed downloads."""

from __future__ import annotations

import io
import wave
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import mutagen
import pytest

from sandbox.signed_urls import UrlSigner
from tests.sandbox.conftest import URL_SECRET
from tests.sandbox.harness import EMMA, Harness, poll


def query_of(url: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}


class TestProgressOnTheClock:
    def test_each_phase_lasts_until_the_clock_says(self, clocked: Harness) -> None:
        """queued → running → enhancing → ready, each only when the clock passes its length."""
        generation_id = clocked.submit()
        assert clocked.generation(generation_id)["status"] == "queued"
        clocked.advance(29)
        assert clocked.generation(generation_id)["status"] == "queued"
        clocked.advance(1)
        assert clocked.generation(generation_id)["status"] == "running"
        clocked.advance(30)
        clocked.wait_for_status(generation_id, "enhancing")
        clocked.advance(29)
        assert clocked.generation(generation_id)["status"] == "enhancing"
        clocked.advance(1)
        assert clocked.generation(generation_id)["status"] == "ready"

    def test_one_big_jump_goes_all_the_way(self, clocked: Harness) -> None:
        """Advancing past every phase at once ends in ready, once the audio is rendered."""
        generation_id = clocked.submit()
        clocked.advance(3600)
        clocked.wait_for_status(generation_id, "ready")
        assert clocked.sink.wait_for(1, clocked.hook_path)

    def test_completed_at_follows_the_clock(self, clocked: Harness) -> None:
        """createdAt and completedAt are on the sandbox clock, so an advance shows in them."""
        generation_id = clocked.submit()
        clocked.advance(7200)
        view = clocked.wait_for_status(generation_id, "ready")
        created = view["createdAt"]
        completed = view["completedAt"]
        assert completed > created
        assert int(completed[11:13]) != int(created[11:13])


class TestProgressInRealTime:
    def test_reaches_ready_through_the_phases_in_order(self, sandbox: Harness) -> None:
        """Polled often, the statuses seen only ever move forward and end in ready."""
        generation_id = sandbox.submit()
        order = ["queued", "running", "enhancing", "ready"]
        seen: list[str] = []

        def ready() -> bool:
            status = sandbox.generation(generation_id)["status"]
            if not seen or seen[-1] != status:
                seen.append(status)
            return bool(status == "ready")

        poll(ready, 5, "ready")
        assert seen == sorted(seen, key=order.index)
        assert seen[-1] == "ready"

    @pytest.mark.parametrize("fmt", ["wav", "mp3"])
    def test_duration_matches_the_downloaded_file(self, sandbox: Harness, fmt: str) -> None:
        """durationSec is the length of the file the download link serves."""
        generation_id = sandbox.submit("Hello there, this is a longer test. " * 3, fmt)
        sandbox.wait_for_status(generation_id, "ready")
        view = sandbox.generation(generation_id)
        response = sandbox.files.get(view["downloadUrl"])
        assert response.status_code == 200
        assert response.headers["content-type"] == ("audio/wav" if fmt == "wav" else "audio/mpeg")
        audio = mutagen.File(io.BytesIO(response.content))
        assert audio is not None
        assert audio.info.length == pytest.approx(view["durationSec"], abs=0.15)

    def test_speed_changes_the_length(self, sandbox: Harness) -> None:
        """The same script at double speed yields roughly half the audio."""
        script = "A sentence long enough to have a measurable length. " * 2
        lengths = []
        for speed in (1.0, 2.0):
            body = {
                "voiceId": EMMA,
                "script": script,
                "format": "wav",
                "settings": {"speed": speed},
            }
            generation_id = sandbox.api.post("/v1/generations", json=body).json()["id"]
            lengths.append(sandbox.wait_for_status(generation_id, "ready")["durationSec"])
        assert lengths[1] == pytest.approx(lengths[0] / 2, rel=0.05)

    def test_failed_generations_carry_a_reason_and_refund(self, sandbox: Harness) -> None:
        """A failing generation ends `failed` with `error`, no URL, and its credits back."""
        sandbox.faults(generationFailureRate=1.0)
        before = sandbox.default_workspace()["credits"]
        generation_id = sandbox.submit("a" * 150)
        sandbox.wait_for_status(generation_id, "failed")
        view = sandbox.generation(generation_id)
        assert view["error"] in ("synthesis_failed", "enhancement_failed")
        assert view["downloadUrl"] is None
        assert view["completedAt"] is not None
        assert sandbox.default_workspace()["credits"] == before


class TestDownloads:
    def test_needs_no_key_and_declares_its_length(self, sandbox: Harness) -> None:
        """The signed link works without Authorization and sends Content-Length."""
        generation = sandbox.ready_generation("wav")
        response = sandbox.files.get(generation["downloadUrl"])
        assert response.status_code == 200
        assert int(response.headers["content-length"]) == len(response.content)
        assert len(response.content) == generation["sizeBytes"]
        with wave.open(io.BytesIO(response.content)) as wav:
            seconds = wav.getnframes() / wav.getframerate()
        assert seconds == pytest.approx(generation["durationSec"], abs=0.001)

    def test_downloads_do_not_count_against_the_rate_limit(self, sandbox: Harness) -> None:
        """Fetching files leaves the workspace's served-request count alone."""
        url = sandbox.ready_generation()["downloadUrl"]
        before = sandbox.default_workspace()["requests"]["served"]
        for _ in range(5):
            assert sandbox.files.get(url).status_code == 200
        assert sandbox.default_workspace()["requests"]["served"] == before

    def test_links_expire_after_ten_minutes(self, clocked: Harness) -> None:
        """After 600 s the link is 403 url_expired; a fresh GET gives one that works."""
        generation = clocked.ready_generation(notify=False)
        url = clocked.generation(generation["id"])["downloadUrl"]
        clocked.advance(599)
        assert clocked.files.get(url).status_code == 200
        clocked.advance(2)
        expired = clocked.files.get(url)
        assert expired.status_code == 403
        assert expired.json()["error"] == "url_expired"
        fresh = clocked.generation(generation["id"])["downloadUrl"]
        assert fresh != url
        assert clocked.files.get(fresh).status_code == 200

    def test_every_get_signs_a_new_link(self, clocked: Harness) -> None:
        """A later GET hands out a link with a later expiry; the earlier one still works."""
        generation_id = clocked.ready_generation(notify=False)["id"]
        first = clocked.generation(generation_id)["downloadUrl"]
        clocked.advance(5)
        second = clocked.generation(generation_id)["downloadUrl"]
        assert int(query_of(second)["expires"]) >= int(query_of(first)["expires"]) + 5
        assert clocked.files.get(first).status_code == 200

    @pytest.mark.parametrize("part", ["signature", "expires", "name"])
    def test_tampered_links_are_refused(self, sandbox: Harness, part: str) -> None:
        """Changing the signature, the expiry or the file name gives 403 invalid_signature."""
        generation = sandbox.ready_generation()
        url = generation["downloadUrl"]
        query = query_of(url)
        if part == "signature":
            url = url.replace(query["signature"], "f" * 64)
        elif part == "expires":
            url = url.replace(f"expires={query['expires']}", f"expires={int(query['expires']) + 9}")
        else:
            last = "1" if generation["id"].endswith("0") else "0"  # always a different name
            url = url.replace(generation["id"], generation["id"][:-1] + last)
        response = sandbox.files.get(url)
        assert response.status_code == 403
        assert response.json()["error"] == "invalid_signature"

    def test_a_signed_link_to_nothing_is_404(self, sandbox: Harness) -> None:
        """A genuine signature for a file that does not exist is 404 not_found."""
        name = "00000000-0000-4000-8000-00000000dead.wav"
        query = UrlSigner(URL_SECRET.encode()).query(name, 4_000_000_000)
        response = sandbox.files.get(f"{sandbox.url}/files/{name}?{query}")
        assert response.status_code == 404

    def test_a_long_file_is_streamed(self, sandbox: Harness, tmp_path: Path) -> None:
        """A forced ten-minute wav (26 MB) downloads in chunks with the announced length."""
        generation = sandbox.ready_generation("wav", durationSec=600, notify=False)
        assert generation["durationSec"] == 600
        target = tmp_path / "long.wav"
        with sandbox.files.stream("GET", generation["downloadUrl"]) as response:
            assert int(response.headers["content-length"]) == generation["sizeBytes"]
            chunks = 0
            with target.open("wb") as out:
                for chunk in response.iter_bytes():
                    out.write(chunk)
                    chunks += 1
        assert chunks > 10
        assert target.stat().st_size == generation["sizeBytes"] > 26_000_000
        audio = mutagen.File(target)
        assert audio is not None
        assert audio.info.length == pytest.approx(600)

    def test_a_wrong_method_is_not_a_download(self, sandbox: Harness) -> None:
        """Files are read-only."""
        url = sandbox.ready_generation()["downloadUrl"]
        assert sandbox.files.post(url).status_code == 405

    def test_content_is_audio_of_the_requested_format(self, sandbox: Harness) -> None:
        """An mp3 download is an mp3 that mutagen reads."""
        generation = sandbox.ready_generation("mp3")
        content = httpx.get(generation["downloadUrl"], trust_env=False).content
        audio = mutagen.File(io.BytesIO(content))
        assert audio is not None
        assert type(audio).__name__ == "MP3"
