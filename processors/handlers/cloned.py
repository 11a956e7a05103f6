"""`voice.cloned`: the customer's voice is ready under its upstream voice id."""

from __future__ import annotations

from uuid import uuid4

from sqlmodel import select

from config.database import session_scope
from processors.errors import PermanentFailure
from processors.events import ClaimedEvent
from processors.worker import ProcessorContext
from records.jobs import Voice, VoiceStatus
from records.types import utcnow


def handle_voice_cloned(ctx: ProcessorContext, event: ClaimedEvent) -> str:
    voice_id = event.resource_id
    if voice_id is None:
        raise PermanentFailure("voice.cloned without data.id")
    clone_job_id = event.data.get("cloneJobId")
    name = event.data.get("name")
    now = utcnow()
    with session_scope(ctx.engine) as session:
        voice = None
        if isinstance(clone_job_id, str):
            voice = session.exec(select(Voice).where(Voice.clone_job_id == clone_job_id)).first()
        if voice is None:
            voice = session.exec(select(Voice).where(Voice.voice_id == voice_id)).first()
        if voice is None:
            voice = Voice(
                id=str(uuid4()),
                clone_job_id=clone_job_id if isinstance(clone_job_id, str) else None,
                status=VoiceStatus.CLONING.value,
                created_at=now,
                updated_at=now,
            )
        if voice.status == VoiceStatus.READY and voice.voice_id == voice_id:
            return "voice already ready"
        voice.voice_id = voice_id
        voice.status = VoiceStatus.READY.value
        if isinstance(name, str) and name:
            voice.name = name
        voice.updated_at = now
        session.add(voice)
    return f"voice {voice_id} ready"
