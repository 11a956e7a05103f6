"""A job's audio, fetched once into the object store: download to a local partial file,
verify, then put it under the job's key with its sha256 (the store checks it), then record.

The key is the job's (`storage.keys.job_audio_key`), so every try of every message of a job
aims at one object: a verified object already there (it carries the sha256 and duration it
was verified with) is neither fetched nor uploaded again, and a try killed mid-upload left
no object, so the next one simply does it again. The local file is scratch: it lives beside
where the local store would keep the audio, named like a download's partial file, so the
sweeper removes what a killed worker left.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from config.tracing import annotate, span
from processors import metrics
from processors.audio import AudioFacts, verify_audio
from processors.download import DownloadedFile, download_audio
from processors.errors import (
    AudioInvalid,
    DisallowedUrl,
    DownloadError,
    DownloadFailed,
    DownloadRefused,
    DownloadTooLarge,
    PermanentFailure,
    RetryLater,
)
from processors.worker import ProcessorContext
from records.attempt_views import AttemptView
from records.audio_records import job_audio
from records.job_outcomes import fail_job, note_download_failure
from records.job_readying import StoredAudio
from storage.errors import ObjectStoreError
from storage.keys import job_audio_key, media_type
from storage.local import file_sha256
from storage.protocol import DURATION_METADATA, ObjectStore, duration_metadata

GENERATION_NOT_READY_RETRY_SECONDS = 5.0
STORE_RETRY_SECONDS = 30.0


@contextmanager
def store_errors_retry_later() -> Iterator[None]:
    """An object store that fails (unreachable, refusing, checksum) is retried, never final."""
    try:
        yield
    except ObjectStoreError as exc:
        raise RetryLater(STORE_RETRY_SECONDS, f"object store: {exc}") from exc


def audio_lost(ctx: ProcessorContext, job_id: str) -> bool:
    """Whether a ready job's kept audio is recorded in this store but is not in it."""
    record = job_audio(ctx.engine, job_id)
    if record is None or record.key is None or record.pruned_at is not None:
        return False
    if record.store != ctx.store.name:
        return False  # elsewhere (being migrated): not this worker's to refetch
    with store_errors_retry_later():
        return ctx.store.stat(record.key) is None


def fetch_verified_audio(
    ctx: ProcessorContext, view: AttemptView, url: str | None, expected_duration: float | None
) -> StoredAudio:
    """The job's audio in the store, verified.

    One download per run: a failed one is noted and retried after the next wait of
    `download_backoff` (with a fresh URL), so faults get minutes rather than milliseconds;
    one failure more than it has waits fails the job.
    """
    key = job_audio_key(view.customer_id, view.job_id, view.format)
    with store_errors_retry_later():
        reused = _already_stored(ctx.store, key, view.format, expected_duration)
        if reused is not None:
            return reused
        if view.download_failures:
            url = None  # the event's URL failed before: ask for a fresh one
        final = ctx.audio_dir / key
        staging = final.with_name(f".{final.name}.{secrets.token_hex(8)}.part")
        try:
            return _download_and_put(
                ctx, view, key=key, staging=staging, url=url, expected_duration=expected_duration
            )
        finally:
            staging.unlink(missing_ok=True)


def _download_and_put(
    ctx: ProcessorContext,
    view: AttemptView,
    *,
    key: str,
    staging: Path,
    url: str | None,
    expected_duration: float | None,
) -> StoredAudio:
    problem = "no download tried"
    for _ in range(2):  # a refused URL (expired) is replaced once, at once
        if url is None:
            url, expected_duration = _fresh_url(ctx, view)
        try:
            downloaded, facts = _download_verified(ctx, view, url, staging, expected_duration)
        except (DownloadTooLarge, DisallowedUrl) as exc:
            raise _failed(ctx, view, f"download refused by policy: {exc}") from exc
        except DownloadRefused as exc:
            problem = str(exc)
            url = None  # expired or refused: ask the API for a fresh one
            continue
        except (DownloadFailed, AudioInvalid) as exc:
            problem = str(exc)
            break
        with span("audio.store", **{"voicehook.job_id": view.job_id}):
            ctx.store.put(
                key,
                staging,
                sha256=downloaded.sha256,
                media_type=media_type(view.format),
                metadata=duration_metadata(facts.duration_sec),
            )
        return _stored(ctx.store, key, facts, downloaded.sha256)
    raise _download_failed(ctx, view, problem)


def _download_verified(
    ctx: ProcessorContext, view: AttemptView, url: str, staging: Path, expected: float | None
) -> tuple[DownloadedFile, AudioFacts]:
    """Download and verify, counted in the download metrics whatever the outcome."""
    started = time.monotonic()
    try:
        with span("audio.download", **{"voicehook.job_id": view.job_id}):
            downloaded = download_audio(
                ctx.downloads,
                url,
                staging,
                allowed_hosts=ctx.allowed_hosts,
                max_bytes=ctx.max_download_bytes,
                deadline=ctx.download_deadline,
                sync_directory=False,  # scratch: the store's put makes its own rename durable
            )
            annotate(**{"voicehook.audio_bytes": downloaded.size})
        with span("audio.verify", **{"voicehook.audio_format": view.format}):
            facts = verify_audio(staging, view.format, expected)
    except (DownloadError, AudioInvalid) as exc:
        metrics.DOWNLOAD_SECONDS.labels("failed").observe(time.monotonic() - started)
        metrics.DOWNLOAD_FAILURES.labels(metrics.failure_reason(exc).value).inc()
        raise
    metrics.DOWNLOAD_SECONDS.labels("ok").observe(time.monotonic() - started)
    metrics.DOWNLOAD_BYTES.inc(downloaded.size)
    return downloaded, facts


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


def _already_stored(
    store: ObjectStore, key: str, audio_format: str, expected: float | None
) -> StoredAudio | None:
    """A verified object already under the key (a crash after the put) is not fetched again.

    An object put by `fetch_verified_audio` carries the sha256 and duration it was verified
    with; a local file (which has no metadata) is verified again where it lies.
    """
    found = store.stat(key)
    if found is None:
        return None
    duration = found.metadata.get(DURATION_METADATA)
    if found.sha256 and duration:
        return StoredAudio(store.name, key, found.size, found.sha256, float(duration))
    path = store.local_path(key)
    if path is None:
        return None  # not put by us: fetched and put again
    try:
        facts = verify_audio(path, audio_format, expected)
    except AudioInvalid:
        return None
    return _stored(store, key, facts, file_sha256(path))


def _stored(store: ObjectStore, key: str, facts: AudioFacts, sha256: str) -> StoredAudio:
    return StoredAudio(
        store=store.name,
        relative_path=key,
        size=facts.size,
        sha256=sha256,
        duration_sec=facts.duration_sec,
    )
