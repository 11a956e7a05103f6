"""`generation.ready`: fetch the audio, verify it, and complete the job once."""

from __future__ import annotations

import hashlib
import os
import secrets
from pathlib import Path
from urllib.parse import urlsplit

import structlog

from processors.attempt_lookup import attempt_of
from processors.audio import AudioFacts, verify_audio
from processors.download import download_audio
from processors.errors import (
    AudioInvalid,
    DisallowedUrl,
    DownloadFailed,
    DownloadRefused,
    DownloadTooLarge,
    PermanentFailure,
    RetryLater,
)
from processors.policy import ReadyAction, on_ready
from processors.worker import ProcessorContext
from records.claims import ClaimedEvent
from records.job_outcomes import (
    AttemptView,
    StoredAudio,
    complete_job,
    fail_job,
    note_download_failure,
    record_attempt,
)
from records.jobs import AttemptStatus

log = structlog.get_logger(__name__)

GENERATION_NOT_READY_RETRY_SECONDS = 5.0


def handle_generation_ready(ctx: ProcessorContext, event: ClaimedEvent) -> str:
    """Complete the job of a ready generation; returns a one-line note of what was done."""
    generation_id = event.resource_id
    if generation_id is None:
        raise PermanentFailure("generation.ready without data.id")
    url = event.data.get("downloadUrl")
    url = url if isinstance(url, str) and url else None
    view = attempt_of(
        ctx.engine,
        generation_id,
        event.data,
        untracked_format=_format_from_url(url),
        audio_format=_known_format(url),
        max_attempts=ctx.max_attempts,
        rules=ctx.adoption,
    )
    if on_ready(view.job_status) is ReadyAction.RECORD_ONLY:
        record_attempt(ctx.engine, view.attempt_id, AttemptStatus.READY, None)
        return "job already ready; nothing fetched"
    duration = event.data.get("durationSec")
    expected = float(duration) if isinstance(duration, int | float) else None
    audio = fetch_verified_audio(ctx, view, url, expected)
    if complete_job(ctx.engine, view, audio):
        return f"audio stored ({audio.size} bytes, {audio.duration_sec:.2f}s)"
    return "job was completed by another delivery"


def fetch_verified_audio(
    ctx: ProcessorContext, view: AttemptView, url: str | None, expected_duration: float | None
) -> StoredAudio:
    """The job's audio at its final path, verified.

    One download per run: a failed one is noted and retried after the next wait of
    `download_backoff` (with a fresh URL), so faults get minutes rather than milliseconds;
    one failure more than it has waits fails the job.
    """
    final = destination(ctx.audio_dir, view)
    reused = _reuse_existing(final, view.format, expected_duration)
    if reused is not None:
        return _stored(ctx.audio_dir, final, reused, _sha256_of(final))
    if view.download_failures:
        url = None  # the event's URL failed before: ask for a fresh one
    # Named like a download's partial file, so the sweeper removes it after a crash.
    staging = final.with_name(f".{final.name}.{secrets.token_hex(8)}.part")
    for _ in range(2):  # a refused URL (expired) is replaced once, at once
        if url is None:
            url, expected_duration = _fresh_url(ctx, view)
        try:
            downloaded = download_audio(
                ctx.downloads,
                url,
                staging,
                allowed_hosts=ctx.allowed_hosts,
                max_bytes=ctx.max_download_bytes,
                deadline=ctx.download_deadline,
            )
            facts = verify_audio(staging, view.format, expected_duration)
        except (DownloadTooLarge, DisallowedUrl) as exc:
            staging.unlink(missing_ok=True)
            raise _failed(ctx, view, f"download refused by policy: {exc}") from exc
        except DownloadRefused as exc:
            problem = str(exc)
            url = None
            continue
        except (DownloadFailed, AudioInvalid) as exc:
            staging.unlink(missing_ok=True)
            problem = str(exc)
            break
        os.replace(staging, final)
        _fsync_directory(final.parent)
        return _stored(ctx.audio_dir, final, facts, downloaded.sha256)
    raise _download_failed(ctx, view, problem)


def _download_failed(ctx: ProcessorContext, view: AttemptView, problem: str) -> Exception:
    """Retry after the next wait, or, past the last one, fail the job with the reason."""
    tries = len(ctx.download_backoff) + 1
    failures = view.download_failures + 1
    if failures >= tries:
        return _failed(ctx, view, f"download kept failing ({failures} tries): {problem}")
    delay = ctx.download_backoff[failures - 1]
    reason = f"download failed ({failures} of {tries} tries), again in {delay:g}s: {problem}"
    note_download_failure(ctx.engine, view, reason)
    return RetryLater(delay, reason)


def _failed(ctx: ProcessorContext, view: AttemptView, reason: str) -> PermanentFailure:
    """The event fails, and its job says so (never `submitted` with a stale error)."""
    note_download_failure(ctx.engine, view, reason)
    fail_job(ctx.engine, view, reason)
    return PermanentFailure(reason)


def _fresh_url(ctx: ProcessorContext, view: AttemptView) -> tuple[str, float | None]:
    assert view.generation_id is not None
    generation = ctx.api.get_generation(view.generation_id)
    if generation.status != "ready" or not generation.download_url:
        raise RetryLater(
            GENERATION_NOT_READY_RETRY_SECONDS,
            f"generation {view.generation_id} is {generation.status!r}, not ready yet",
        )
    return generation.download_url, generation.duration_sec


def destination(audio_dir: Path, view: AttemptView) -> Path:
    """Where a job's audio lives: one folder per customer, untracked jobs on their own."""
    folder = view.customer_id or "untracked"
    return audio_dir / folder / f"{view.job_id}.{view.format}"


def _reuse_existing(path: Path, audio_format: str, expected: float | None) -> AudioFacts | None:
    """A complete, verified file already in place (a crash after the rename) is not refetched."""
    if not path.exists():
        return None
    try:
        return verify_audio(path, audio_format, expected)
    except AudioInvalid:
        return None


def _stored(audio_dir: Path, path: Path, facts: AudioFacts, sha256: str) -> StoredAudio:
    return StoredAudio(
        relative_path=str(path.relative_to(audio_dir)),
        size=facts.size,
        sha256=sha256,
        duration_sec=facts.duration_sec,
    )


def _sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for chunk in iter(lambda: file.read(1024 * 1024), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _format_from_url(url: str | None) -> str:
    return _known_format(url) or "mp3"


def _known_format(url: str | None) -> str | None:
    """The format a download URL's extension names, if it names one."""
    path = urlsplit(url).path.lower() if url else ""
    return next((fmt for fmt in ("wav", "mp3") if path.endswith("." + fmt)), None)


def _fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
