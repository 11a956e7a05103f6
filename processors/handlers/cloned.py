"""`voice.cloned`: the customer's voice is ready under its upstream voice id."""

from __future__ import annotations

from processors.errors import PermanentFailure
from processors.worker import ProcessorContext
from records.claims import ClaimedEvent
from records.voice_repo import voice_cloned


def handle_voice_cloned(ctx: ProcessorContext, event: ClaimedEvent) -> str:
    voice_id = event.resource_id
    if voice_id is None:
        raise PermanentFailure("voice.cloned without data.id")
    clone_job_id = event.data.get("cloneJobId")
    name = event.data.get("name")
    if not voice_cloned(
        ctx.engine,
        clone_job_id if isinstance(clone_job_id, str) else None,
        voice_id,
        name if isinstance(name, str) else None,
    ):
        return "voice already ready"
    return f"voice {voice_id} ready"
