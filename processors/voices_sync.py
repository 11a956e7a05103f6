"""`voicehook voices sync`: bring local voices in line with `GET /v1/voices`."""

from __future__ import annotations

from typing import Any

from sqlmodel import select

from config.database import session_scope
from processors.worker import ProcessorContext
from records.jobs import Voice, VoiceStatus
from records.types import utcnow


def sync_voices(ctx: ProcessorContext) -> tuple[list[dict[str, Any]], int]:
    """The upstream's voices, and how many local clones it showed to be ready (one API call)."""
    upstream = ctx.api.list_voices()
    by_clone_job = {
        str(item["cloneJobId"]): item
        for item in upstream
        if item.get("kind") == "cloned" and item.get("cloneJobId")
    }
    now = utcnow()
    updated = 0
    with session_scope(ctx.engine) as session:
        waiting = session.exec(select(Voice).where(Voice.status == VoiceStatus.CLONING.value)).all()
        for voice in waiting:
            found = by_clone_job.get(voice.clone_job_id or "")
            if found is None:
                continue
            voice.voice_id = str(found["id"])
            voice.status = VoiceStatus.READY.value
            voice.updated_at = now
            session.add(voice)
            updated += 1
    return upstream, updated
