"""Cloning through the internal API's path: samples stored, uploaded once, clone started."""

from __future__ import annotations

import pytest

from config.database import transaction
from processors.errors import RetryLater
from processors.handlers.clone import clone_voice
from processors.voices_sync import sync_voices
from processors.worker import ProcessorContext
from receiver import voice_intake
from receiver.job_requests import CloneRequest
from records.customer_repo import upsert_customer
from records.jobs import Voice
from records.voice_repo import find_voice, insert_voice_on, update_voice
from storage.keys import samples_prefix
from tests.processors.flow import Sandbox
from tests.waiting import wait_until


def new_voice(ctx: ProcessorContext, samples: int = 2) -> str:
    upsert_customer(ctx.engine, "acme", "Acme")
    request = CloneRequest.model_validate(
        {
            "customerRef": "acme",
            "name": "Narrator",
            "samples": [
                {"filename": f"take{n}.wav", "contentBase64": "UklGRiQAAABXQVZF"}
                for n in range(samples)
            ],
        }
    )
    voice = voice_intake.new_voice(ctx.engine, request)
    voice_intake.upload_samples(ctx.store, ctx.audio_dir, voice.id, request)
    with transaction(ctx.engine) as conn:
        insert_voice_on(conn, voice)
    return voice.id


def voice(ctx: ProcessorContext, voice_id: str) -> Voice:
    found = find_voice(ctx.engine, voice_id)
    assert found is not None
    return found


class TestCloneVoice:
    def test_uploads_clones_and_sync_marks_it_ready(
        self, ctx: ProcessorContext, vpai: Sandbox
    ) -> None:
        """Two samples uploaded, one clone job, and `voices sync` finds the finished voice."""
        voice_id = new_voice(ctx)
        assert clone_voice(ctx, voice_id).startswith("cloning as ")
        cloning = voice(ctx, voice_id)
        assert cloning.status == "cloning"
        assert len(cloning.sample_paths) == 2
        assert clone_voice(ctx, voice_id) == "nothing to do"

        def synced_ready() -> bool:
            sync_voices(ctx)
            return voice(ctx, voice_id).status == "ready"

        wait_until(synced_ready, interval=0.2, description="voices sync to find the voice ready")
        ready = voice(ctx, voice_id)
        assert ready.status == "ready"
        assert ready.voice_id is not None

    def test_plan_without_cloning_fails_with_what_to_do(
        self, ctx: ProcessorContext, vpai: Sandbox
    ) -> None:
        """A Free workspace fails the voice, saying which plan is needed."""
        vpai.set_workspace(plan="free")
        voice_id = new_voice(ctx)
        assert clone_voice(ctx, voice_id).startswith("failed: ")
        failed = voice(ctx, voice_id)
        assert failed.status == "failed"
        assert failed.last_error is not None
        assert "Scale plan" in failed.last_error

    def test_a_failed_run_is_rerun_and_uploads_resume_where_they_stopped(
        self, ctx: ProcessorContext, vpai: Sandbox
    ) -> None:
        """A 5xx fails the run (retry later); a run after a crash uploads only what is missing."""
        voice_id = new_voice(ctx, samples=3)
        vpai.faults(force500=1)
        with pytest.raises(RetryLater):
            clone_voice(ctx, voice_id)
        assert voice(ctx, voice_id).sample_paths == []
        # As a worker killed after its first upload leaves it: one sample recorded as uploaded.
        first = ctx.store.keys(samples_prefix(voice_id))[0]
        with ctx.store.open(first) as chunks:
            content = b"".join(chunks)
        uploaded = ctx.api.upload(f"{voice_id[:8]}-{first.rsplit('/', 1)[-1]}", content)
        update_voice(ctx.engine, voice_id, sample_paths=[uploaded])
        served = vpai.workspace()["requests"]["served"]
        assert clone_voice(ctx, voice_id).startswith("cloning as ")
        assert len(voice(ctx, voice_id).sample_paths) == 3
        assert voice(ctx, voice_id).sample_paths[0] == uploaded
        assert vpai.workspace()["requests"]["served"] == served + 3  # two uploads, one clone
