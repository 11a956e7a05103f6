"""voice.cloned: the local voice is ready under the upstream's voice id, once."""

from __future__ import annotations

from sqlalchemy import select

from config.database import transaction
from processors.worker import ProcessorContext
from records.jobs import VOICES, Voice
from records.types import utcnow
from records.voice_repo import insert_voice_on
from tests.processors.flow import Sandbox, process, store_event
from tests.waiting import wait_until


class TestVoiceCloned:
    def test_clone_completion_marks_the_voice_ready(
        self, ctx: ProcessorContext, vpai: Sandbox
    ) -> None:
        """Upload, clone, and the voice.cloned event records the upstream voice id once."""
        path = ctx.api.upload("sample.wav", b"RIFF" + b"\0" * 2000)
        clone_job_id = ctx.api.clone_voice([path])
        now = utcnow()
        with transaction(ctx.engine) as conn:
            insert_voice_on(
                conn,
                Voice(
                    id="v-local",
                    clone_job_id=clone_job_id,
                    status="cloning",
                    sample_paths=[path],
                    created_at=now,
                    updated_at=now,
                ),
            )
        cloned = wait_until(
            lambda: next(
                (v for v in ctx.api.list_voices() if v.get("cloneJobId") == clone_job_id), None
            ),
            interval=0.1,
            description=f"the sandbox to list the voice of clone job {clone_job_id}",
        )
        event_id = store_event(ctx.engine, "voice.cloned", cloned)
        process(ctx, event_id)
        process(ctx, event_id)
        with ctx.engine.connect() as conn:
            voices = [Voice(**row) for row in conn.execute(select(VOICES)).mappings()]
        assert len(voices) == 1
        assert voices[0].status == "ready"
        assert voices[0].voice_id == cloned["id"]
