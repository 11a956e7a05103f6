"""`generation.ready`: fetch the audio into the store, verify it, and complete the job once."""

from __future__ import annotations

from urllib.parse import urlsplit

import structlog

from config.tracing import span
from processors import metrics
from processors.attempt_lookup import attempt_of
from processors.errors import PermanentFailure
from processors.handlers import Settled
from processors.policy import ReadyAction, on_ready
from processors.stored_audio import audio_lost, fetch_verified_audio
from processors.worker import ProcessorContext
from records.audio_records import restore_audio
from records.claims import ClaimedEvent
from records.job_outcomes import complete_job, record_attempt
from records.jobs import AttemptStatus
from records.types import utcnow

log = structlog.get_logger(__name__)


def handle_generation_ready(ctx: ProcessorContext, event: ClaimedEvent) -> str | Settled:
    """Complete the job of a ready generation; returns a one-line note of what was done,
    `Settled` when the completion's transaction settled the event too."""
    generation_id = event.resource_id
    if generation_id is None:
        raise PermanentFailure("generation.ready without data.id")
    url = event.data.get("downloadUrl")
    url = url if isinstance(url, str) and url else None
    with span("attempt.lookup", **{"voicehook.generation_id": generation_id}):
        view = attempt_of(
            ctx.engine,
            generation_id,
            event.data,
            untracked_format=_format_from_url(url),
            audio_format=_known_format(url),
            max_attempts=ctx.max_attempts,
            rules=ctx.adoption,
            claims=event.attempts,
            known=event.attempt,
        )
    duration = event.data.get("durationSec")
    expected = float(duration) if isinstance(duration, int | float) else None
    if on_ready(view.job_status) is ReadyAction.RECORD_ONLY:
        record_attempt(ctx.engine, view.attempt_id, AttemptStatus.READY, None)
        if not audio_lost(ctx, view.job_id):
            return "job already ready; nothing fetched"
        audio = fetch_verified_audio(ctx, view, url, expected)
        restore_audio(ctx.engine, view.job_id, audio)
        return f"audio fetched again: the store had lost it ({audio.size} bytes)"
    audio = fetch_verified_audio(ctx, view, url, expected)
    with span("job.complete", **{"voicehook.job_id": view.job_id}):
        completed = complete_job(ctx.engine, view, audio, settles=event.id)
    if completed:
        if event.received_at is not None:
            metrics.WEBHOOK_TO_READY.observe(
                max(0.0, (utcnow() - event.received_at).total_seconds())
            )
        return Settled(f"audio stored ({audio.size} bytes, {audio.duration_sec:.2f}s)")
    return Settled("job was completed by another delivery")


def _format_from_url(url: str | None) -> str:
    return _known_format(url) or "mp3"


def _known_format(url: str | None) -> str | None:
    """The format a download URL's extension names, if it names one."""
    path = urlsplit(url).path.lower() if url else ""
    return next((fmt for fmt in ("wav", "mp3") if path.endswith("." + fmt)), None)
