"""Cloning a customer's voice: upload each sample (read from the store) once, then clone."""

from __future__ import annotations

from processors.errors import ApiError, RetryLater, TransientApiError
from processors.stored_audio import store_errors_retry_later
from processors.vpai import explain
from processors.worker import ProcessorContext
from records.jobs import VoiceStatus
from records.voice_repo import find_voice, update_voice, voice_failed
from storage.keys import samples_prefix
from storage.protocol import ObjectStore


def clone_voice(ctx: ProcessorContext, voice_id: str) -> str:
    """Upload what is not uploaded yet, then clone; safe to run again after any failure."""
    voice = find_voice(ctx.engine, voice_id)
    if voice is None or voice.status != VoiceStatus.UPLOADING:
        return "nothing to do"
    uploaded = list(voice.sample_paths)
    with store_errors_retry_later():
        samples = ctx.store.keys(samples_prefix(voice_id))
    try:
        for key in samples[len(uploaded) :]:
            content = _read_sample(ctx.store, key)
            uploaded.append(ctx.api.upload(_upstream_name(voice_id, key), content))
            update_voice(ctx.engine, voice_id, sample_paths=list(uploaded))
        clone_job_id = ctx.api.clone_voice(uploaded)
    except TransientApiError as exc:
        raise RetryLater(exc.retry_after_seconds, str(exc)) from exc
    except ApiError as exc:
        reason = f"{exc.code}: {explain(exc)}"
        voice_failed(ctx.engine, voice_id, reason)
        return f"failed: {reason}"
    update_voice(ctx.engine, voice_id, status=VoiceStatus.CLONING.value, clone_job_id=clone_job_id)
    return f"cloning as {clone_job_id}"


def _read_sample(store: ObjectStore, key: str) -> bytes:
    """A sample's bytes (bounded by the intake's size limit) from the store."""
    with store_errors_retry_later(), store.open(key) as chunks:
        return b"".join(chunks)


def _upstream_name(voice_id: str, key: str) -> str:
    return f"{voice_id[:8]}-{key.rsplit('/', 1)[-1]}"
