"""Cloning a customer's voice: upload each sample once, then start the clone job."""

from __future__ import annotations

from pathlib import Path

from processors.errors import ApiError, RetryLater, TransientApiError
from processors.vpai import explain
from processors.worker import ProcessorContext
from records.jobs import VoiceStatus, voice_samples_dir
from records.voice_repo import find_voice, update_voice, voice_failed


def clone_voice(ctx: ProcessorContext, voice_id: str) -> str:
    """Upload what is not uploaded yet, then clone; safe to run again after any failure."""
    voice = find_voice(ctx.engine, voice_id)
    if voice is None or voice.status != VoiceStatus.UPLOADING:
        return "nothing to do"
    uploaded = list(voice.sample_paths)
    samples = sorted(voice_samples_dir(ctx.audio_dir, voice_id).glob("*"))
    try:
        for sample in samples[len(uploaded) :]:
            uploaded.append(ctx.api.upload(_upstream_name(voice_id, sample), sample.read_bytes()))
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


def _upstream_name(voice_id: str, sample: Path) -> str:
    return f"{voice_id[:8]}-{sample.name}"
