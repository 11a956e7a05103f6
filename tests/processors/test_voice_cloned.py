"""voice.cloned: the local voice is ready under the upstream's voice id, once."""

from __future__ import annotations

import time

from sqlmodel import Session, select

from processors.worker import ProcessorContext
from records.jobs import Voice
from records.types import utcnow
from tests.processors.flow import Sandbox, process, store_event


class TestVoiceCloned:
    def test_clone_completion_marks_the_voice_ready(
        self, ctx: ProcessorContext, vpai: Sandbox
    ) -> None:
        """Upload, clone, and the voice.cloned event records the upstream voice id once."""
        path = ctx.api.upload("sample.wav", b"RIFF" + b"\0" * 2000)
        clone_job_id = ctx.api.clone_voice([path])
        with Session(ctx.engine) as session:
            now = utcnow()
            session.add(
                Voice(
                    id="v-local",
                    clone_job_id=clone_job_id,
                    status="cloning",
                    sample_paths=[path],
                    created_at=now,
                    updated_at=now,
                )
            )
            session.commit()
        deadline = time.monotonic() + 10
        cloned = None
        while cloned is None and time.monotonic() < deadline:
            cloned = next(
                (v for v in ctx.api.list_voices() if v.get("cloneJobId") == clone_job_id), None
            )
            time.sleep(0.1)
        assert cloned is not None
        event_id = store_event(ctx.engine, "voice.cloned", cloned)
        process(ctx, event_id)
        process(ctx, event_id)
        with Session(ctx.engine) as session:
            voices = list(session.exec(select(Voice)))
        assert len(voices) == 1
        assert voices[0].status == "ready"
        assert voices[0].voice_id == cloned["id"]
