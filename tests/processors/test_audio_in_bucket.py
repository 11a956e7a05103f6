"""`generation.ready` with the S3 store (a real S3 server in its own process): the audio
goes to the bucket once, is never half there, and comes back when the bucket loses it."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from sqlalchemy import update

from bench.throwaway_s3 import ThrowawayS3
from processors.stored_audio import fetch_verified_audio
from processors.worker import ProcessorContext
from records.events import EVENTS
from records.job_outcomes import attempt_for_generation
from storage.build import open_store
from storage.s3 import S3Store
from tests.processors.flow import Sandbox, customer, event, job, process, store_event
from tests.processors.test_generation_ready import submitted_and_ready
from tests.services import free_port
from tests.storage_fixtures import bucket_objects, s3_settings


@pytest.fixture
def bucket_ctx(ctx: ProcessorContext, s3_server: ThrowawayS3, bucket: str) -> ProcessorContext:
    """The worker's context with the store of a fresh bucket."""
    ctx.store = open_store(s3_settings(s3_server, bucket))
    return ctx


def object_bytes(store: S3Store, key: str) -> bytes:
    with store.open(key) as chunks:
        return b"".join(chunks)


def requeue(ctx: ProcessorContext, event_id: str) -> None:
    """As `events reprocess` does: the event back to `queued`."""
    with ctx.engine.begin() as conn:
        conn.execute(update(EVENTS).where(EVENTS.c.id == event_id).values(status="queued"))


class TestAudioInBucket:
    def test_ready_audio_is_one_verified_object_and_no_local_file(
        self, bucket_ctx: ProcessorContext, vpai: Sandbox, s3_server: ThrowawayS3, bucket: str
    ) -> None:
        """The object is the verified file (sha256 recorded), and the worker's disk keeps none."""
        job_id, generation = submitted_and_ready(bucket_ctx, vpai)
        event_id = store_event(bucket_ctx.engine, "generation.ready", generation)
        assert process(bucket_ctx, event_id) == []
        done = job(bucket_ctx.engine, job_id)
        assert (done.status, done.audio_store) == ("ready", f"s3://{bucket}/audio")
        assert done.audio_path is not None
        assert isinstance(bucket_ctx.store, S3Store)
        content = object_bytes(bucket_ctx.store, done.audio_path)
        assert content[:4] == b"RIFF"
        assert hashlib.sha256(content).hexdigest() == done.audio_sha256
        assert bucket_objects(s3_server, bucket) == {f"audio/{done.audio_path}": len(content)}
        assert not [p for p in Path(bucket_ctx.audio_dir).rglob("*") if p.is_file()]
        assert customer(bucket_ctx.engine).jobs_ready == 1

    def test_an_object_already_in_place_is_not_fetched_again(
        self, bucket_ctx: ProcessorContext, vpai: Sandbox
    ) -> None:
        """Put before a crash, not recorded: the next try records it without a download."""
        job_id, generation = submitted_and_ready(bucket_ctx, vpai)
        view = attempt_for_generation(
            bucket_ctx.engine, str(generation["id"]), untracked_format="wav", max_attempts=3
        )
        assert view is not None
        put = fetch_verified_audio(bucket_ctx, view, str(generation["downloadUrl"]), None)
        vpai.faults(downloadTruncateRate=1.0)  # any download now would fail
        event_id = store_event(bucket_ctx.engine, "generation.ready", generation)
        process(bucket_ctx, event_id)
        vpai.faults(downloadTruncateRate=0.0)
        assert event(bucket_ctx.engine, event_id).status == "processed"
        done = job(bucket_ctx.engine, job_id)
        assert (done.status, done.audio_sha256, done.audio_bytes) == ("ready", put.sha256, put.size)

    def test_an_unreachable_bucket_is_retried_later_never_ready(
        self, bucket_ctx: ProcessorContext, vpai: Sandbox, s3_server: ThrowawayS3, bucket: str
    ) -> None:
        """The upload cannot happen: the event is handed back with a delay, the job waits."""
        job_id, generation = submitted_and_ready(bucket_ctx, vpai)
        reachable = bucket_ctx.store
        dead = ThrowawayS3(f"http://127.0.0.1:{free_port()}", s3_server.process)
        bucket_ctx.store = open_store(s3_settings(dead, bucket, storage_timeout_seconds=2))
        event_id = store_event(bucket_ctx.engine, "generation.ready", generation)
        delays = process(bucket_ctx, event_id)
        assert len(delays) == 1
        assert delays[0] > 0
        assert job(bucket_ctx.engine, job_id).status == "submitted"
        waiting = event(bucket_ctx.engine, event_id)
        assert waiting.status != "processed"
        assert waiting.last_error is not None
        assert "did not answer" in waiting.last_error
        bucket_ctx.store = reachable  # the bucket is back: the retried message completes it
        assert process(bucket_ctx, event_id) == []
        assert job(bucket_ctx.engine, job_id).status == "ready"

    def test_a_lost_object_is_fetched_again_on_reprocess(
        self, bucket_ctx: ProcessorContext, vpai: Sandbox
    ) -> None:
        """Deleted behind our back: reprocessing the event puts it back, counting nothing twice."""
        job_id, generation = submitted_and_ready(bucket_ctx, vpai)
        event_id = store_event(bucket_ctx.engine, "generation.ready", generation)
        process(bucket_ctx, event_id)
        done = job(bucket_ctx.engine, job_id)
        assert done.audio_path is not None
        bucket_ctx.store.delete(done.audio_path)
        requeue(bucket_ctx, event_id)
        process(bucket_ctx, event_id)
        assert event(bucket_ctx.engine, event_id).status == "processed"
        found = bucket_ctx.store.stat(done.audio_path)
        assert found is not None
        assert found.sha256 == job(bucket_ctx.engine, job_id).audio_sha256
        assert customer(bucket_ctx.engine).jobs_ready == 1
