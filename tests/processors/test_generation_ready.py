"""`generation.ready` against the sandbox: fetch, verify, complete once, count once."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, update
from sqlalchemy import event as sqlalchemy_event

from processors.handlers.submit import submit_job
from processors.stored_audio import fetch_verified_audio
from processors.worker import ProcessorContext
from records.claims import ClaimedEvent, claim_event
from records.event_queue import requeue_stalled
from records.events import EVENTS
from records.job_outcomes import complete_job
from records.types import utcnow
from tests.processors.flow import (
    Sandbox,
    attempts,
    customer,
    event,
    job,
    new_job,
    process,
    store_event,
)


def submitted_and_ready(
    ctx: ProcessorContext, vpai: Sandbox, audio_format: str = "wav"
) -> tuple[str, dict[str, object]]:
    """A job submitted through the API whose generation is ready; (job id, generation)."""
    job_id = new_job(ctx.engine, audio_format=audio_format)
    assert "submitted" in submit_job(ctx, job_id)
    [attempt] = attempts(ctx.engine, job_id)
    assert attempt.generation_id is not None
    return job_id, vpai.wait_until_settled(attempt.generation_id)


class WorkerDiedError(Exception):
    """Stands for the worker's death between the completion's statements and its commit."""


USAGE_COUNT = "INSERT INTO customer_usage"  # the statement (or part of one) counting usage


@contextmanager
def listening(engine: Engine, name: str, listener: Callable[..., None]) -> Iterator[None]:
    """`listener` hears the engine's event `name` (SQLAlchemy's) while the block runs."""
    sqlalchemy_event.listen(engine, name, listener)
    try:
        yield
    finally:
        sqlalchemy_event.remove(engine, name, listener)


class TestReady:
    def test_audio_is_fetched_verified_and_counted(
        self, ctx: ProcessorContext, vpai: Sandbox
    ) -> None:
        """The file lands under AUDIO_DIR with its sha256; job ready; usage counted once."""
        job_id, generation = submitted_and_ready(ctx, vpai)
        event_id = store_event(ctx.engine, "generation.ready", generation)
        assert process(ctx, event_id) == []
        done = job(ctx.engine, job_id)
        assert done.status == "ready"
        assert done.audio_path is not None
        path = ctx.audio_dir / done.audio_path
        content = path.read_bytes()
        assert content[:4] == b"RIFF"
        assert done.audio_bytes == len(content)
        assert done.audio_sha256 == hashlib.sha256(content).hexdigest()
        assert done.audio_duration_sec is not None
        assert abs(done.audio_duration_sec - float(str(generation["durationSec"]))) <= 1.0
        assert [a.status for a in attempts(ctx.engine, job_id)] == ["ready"]
        usage = customer(ctx.engine)
        assert usage.jobs_ready == 1
        assert usage.audio_seconds == done.audio_duration_sec
        assert usage.credits_spent >= 1
        assert event(ctx.engine, event_id).status == "processed"
        assert not list(path.parent.glob(".*.part"))

    def test_a_completion_that_never_committed_is_finished_after_the_lease(
        self, ctx: ProcessorContext, vpai: Sandbox
    ) -> None:
        """The job's completion and its event's settle are one commit: a worker that died
        before it moved neither; once the lease ran out the sweeper enqueues the event
        again and the next worker completes the job from the stored audio, counted once."""
        job_id, generation = submitted_and_ready(ctx, vpai)
        event_id = store_event(ctx.engine, "generation.ready", generation)
        claimed = claim_event(ctx.engine, event_id, ctx.event_lease_seconds)
        assert isinstance(claimed, ClaimedEvent)
        assert claimed.attempt is not None  # looked up by the claim
        audio = fetch_verified_audio(ctx, claimed.attempt, str(generation["downloadUrl"]), None)

        def dies_before_the_commit(*args: Any) -> None:
            # The usage count is the last statement of the completion's transaction (SQLite),
            # or part of its one statement (PostgreSQL): dying there, nothing has committed.
            if USAGE_COUNT in args[2]:
                raise WorkerDiedError

        with (
            listening(ctx.engine, "before_cursor_execute", dies_before_the_commit),
            pytest.raises(WorkerDiedError),
        ):
            complete_job(ctx.engine, claimed.attempt, audio, settles=event_id)
        assert job(ctx.engine, job_id).status == "submitted"
        assert event(ctx.engine, event_id).status == "processing"
        expired = utcnow() - timedelta(seconds=ctx.event_lease_seconds + 1)
        with ctx.engine.begin() as conn:
            conn.execute(update(EVENTS).where(EVENTS.c.id == event_id).values(started_at=expired))
        enqueued: list[str] = []
        swept = requeue_stalled(
            ctx.engine,
            enqueued.extend,
            lease_seconds=ctx.event_lease_seconds,
            stuck_after_seconds=3600,
            limit=10,
        )
        assert (swept, enqueued) == (1, [event_id])
        assert process(ctx, event_id) == []
        assert job(ctx.engine, job_id).status == "ready"
        assert event(ctx.engine, event_id).status == "processed"
        assert customer(ctx.engine).jobs_ready == 1

    def test_mp3_jobs_are_verified_as_mp3(self, ctx: ProcessorContext, vpai: Sandbox) -> None:
        """An mp3 job's file is an mp3 with a plausible duration."""
        job_id, generation = submitted_and_ready(ctx, vpai, audio_format="mp3")
        process(ctx, store_event(ctx.engine, "generation.ready", generation))
        done = job(ctx.engine, job_id)
        assert done.status == "ready"
        assert done.audio_path is not None
        assert done.audio_path.endswith(".mp3")

    def test_processing_twice_downloads_and_counts_once(
        self, ctx: ProcessorContext, vpai: Sandbox
    ) -> None:
        """A second processing of the same event (or of a redelivered copy) changes nothing."""
        job_id, generation = submitted_and_ready(ctx, vpai)
        first = store_event(ctx.engine, "generation.ready", generation)
        process(ctx, first)
        done = job(ctx.engine, job_id)
        assert done.audio_path is not None
        stat = (ctx.audio_dir / done.audio_path).stat()
        process(ctx, first)  # a duplicate message for a processed event
        with ctx.engine.begin() as conn:  # and an operator's reprocess of the same event
            conn.exec_driver_sql(
                "UPDATE events SET status = 'queued' WHERE id = ?"
                if ctx.engine.dialect.name == "sqlite"
                else "UPDATE events SET status = 'queued' WHERE id = %s",
                (first,),
            )
        process(ctx, first)
        again = (ctx.audio_dir / done.audio_path).stat()
        assert (again.st_ino, again.st_mtime_ns) == (stat.st_ino, stat.st_mtime_ns)
        assert customer(ctx.engine).jobs_ready == 1
        assert customer(ctx.engine).audio_seconds == done.audio_duration_sec

    def test_expired_url_is_replaced_by_a_fresh_one(
        self, ctx: ProcessorContext, vpai: Sandbox
    ) -> None:
        """An event whose download URL has expired gets a fresh one with one GET."""
        job_id, generation = submitted_and_ready(ctx, vpai)
        vpai.control.post("/clock/advance", json={"seconds": 601}).raise_for_status()
        expired = generation  # its signed URL was valid for ten minutes
        served_before = vpai.workspace()["requests"]["served"]
        process(ctx, store_event(ctx.engine, "generation.ready", expired))
        assert job(ctx.engine, job_id).status == "ready"
        assert vpai.workspace()["requests"]["served"] == served_before + 1

    def test_live_url_needs_no_api_call(self, ctx: ProcessorContext, vpai: Sandbox) -> None:
        """With a live URL in the event, no API request is spent."""
        job_id, generation = submitted_and_ready(ctx, vpai)
        served_before = vpai.workspace()["requests"]["served"]
        process(ctx, store_event(ctx.engine, "generation.ready", generation))
        assert job(ctx.engine, job_id).status == "ready"
        assert vpai.workspace()["requests"]["served"] == served_before

    def test_corrupted_download_is_fetched_again(
        self, ctx: ProcessorContext, vpai: Sandbox
    ) -> None:
        """A corrupted first download is retried later; the stored file verifies."""
        job_id, generation = submitted_and_ready(ctx, vpai)
        vpai.faults(downloadCorruptRate=1.0)
        event_id = store_event(ctx.engine, "generation.ready", generation)
        assert process(ctx, event_id) == [ctx.download_backoff[0]]
        vpai.faults(downloadCorruptRate=0.0)
        waiting = job(ctx.engine, job_id)
        assert waiting.status == "submitted"
        assert waiting.last_error is not None
        assert "download failed (1 of 5 tries)" in waiting.last_error
        assert process(ctx, event_id) == []
        done = job(ctx.engine, job_id)
        assert (done.status, done.last_error) == ("ready", None)
        assert done.audio_path is not None
        assert (ctx.audio_dir / done.audio_path).read_bytes()[:4] == b"RIFF"

    def test_three_download_faults_in_a_row_still_end_ready(
        self, ctx: ProcessorContext, vpai: Sandbox
    ) -> None:
        """Truncated, corrupted, truncated: each retried after a longer wait, fresh URL each
        time; the fourth download completes the job."""
        job_id, generation = submitted_and_ready(ctx, vpai)
        event_id = store_event(ctx.engine, "generation.ready", generation)
        delays = []
        for fault in ("downloadTruncateRate", "downloadCorruptRate", "downloadTruncateRate"):
            vpai.faults(**{fault: 1.0})
            delays += process(ctx, event_id)
            vpai.faults(**{fault: 0.0})
        assert delays == ctx.download_backoff[:3]
        served_before = vpai.workspace()["requests"]["served"]
        assert process(ctx, event_id) == []
        assert vpai.workspace()["requests"]["served"] == served_before + 1  # a fresh URL
        assert job(ctx.engine, job_id).status == "ready"
        assert event(ctx.engine, event_id).status == "processed"
        assert [a.download_failures for a in attempts(ctx.engine, job_id)] == [3]

    def test_download_that_keeps_failing_fails_the_event_and_the_job(
        self, ctx: ProcessorContext, vpai: Sandbox
    ) -> None:
        """Truncated every time: after the last wait the event fails, and so does the job,
        with the reason."""
        job_id, generation = submitted_and_ready(ctx, vpai)
        vpai.faults(downloadTruncateRate=1.0)
        event_id = store_event(ctx.engine, "generation.ready", generation)
        delays: list[float] = []
        while True:
            asked = process(ctx, event_id)
            if not asked:
                break
            delays += asked
        vpai.faults(downloadTruncateRate=0.0)
        assert delays == ctx.download_backoff
        failed = event(ctx.engine, event_id)
        assert failed.status == "failed"
        assert failed.last_error is not None
        assert "download kept failing (5 tries)" in failed.last_error
        given_up = job(ctx.engine, job_id)
        assert given_up.status == "failed"
        assert given_up.last_error == failed.last_error
        assert customer(ctx.engine).jobs_failed == 1

    def test_untracked_generation_is_fetched_as_untracked(
        self, ctx: ProcessorContext, vpai: Sandbox
    ) -> None:
        """A ready generation this service never submitted still has its audio fetched."""
        generation = vpai.make_generation("ready", format="wav", durationSec=2)
        event_id = store_event(ctx.engine, "generation.ready", generation)
        process(ctx, event_id)
        assert event(ctx.engine, event_id).status == "processed"
        files = list((ctx.audio_dir / "untracked").glob("*.wav"))
        assert len(files) == 1
