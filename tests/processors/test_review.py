"""An operator adopting a generation that was filed as an untracked job, on either store."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import update

from bench.throwaway_s3 import ThrowawayS3
from processors.errors import AdoptionRefused
from processors.review import adopt_for_operator
from processors.worker import ProcessorContext
from records.jobs import JOBS, Job
from records.submission_repo import start_submission, submission_accepted
from records.unknown_outcomes import settle_unknown_submissions
from storage.build import open_store
from storage.errors import ChecksumMismatch
from storage.protocol import ObjectStore
from tests.processors.flow import (
    Sandbox,
    all_jobs,
    attempts,
    customer,
    job,
    new_job,
    process,
    store_event,
)
from tests.storage_fixtures import bucket_objects, s3_settings


def object_sha256(store: ObjectStore, key: str) -> str:
    with store.open(key) as chunks:
        return hashlib.sha256(b"".join(chunks)).hexdigest()


def job_in_review(ctx: ProcessorContext) -> str:
    """A job whose submission outcome is unknown, past the time to ask an operator."""
    job_id = new_job(ctx.engine)
    assert start_submission(ctx.engine, job_id) is not None
    settle_unknown_submissions(ctx.engine, lease_seconds=1e-6, review_after_seconds=1e-6)
    assert job(ctx.engine, job_id).status == "needs_review"
    return job_id


def job_in_review_and_untracked_ready(ctx: ProcessorContext, vpai: Sandbox) -> tuple[str, str, Job]:
    """A job whose submission outcome is unknown, and a stranger's generation filed ready."""
    stray = vpai.make_generation(format="wav")  # filed before anything could match it
    process(ctx, store_event(ctx.engine, "generation.ready", stray))
    job_id = job_in_review(ctx)
    [untracked] = all_jobs(ctx.engine, JOBS.c.tracked.is_(False))
    assert untracked.audio_path is not None
    return job_id, str(stray["id"]), untracked


def assert_moved(ctx: ProcessorContext, job_id: str, generation_id: str, untracked: Job) -> Job:
    """The job took the untracked one's attempt, audio (at its own key) and usage."""
    adopted = job(ctx.engine, job_id)
    assert (adopted.status, adopted.last_error) == ("ready", None)
    assert adopted.audio_store == untracked.audio_store == ctx.store.name
    assert adopted.audio_path is not None
    assert adopted.audio_path.startswith(f"{adopted.customer_id}/")
    assert adopted.audio_sha256 == untracked.audio_sha256
    assert object_sha256(ctx.store, adopted.audio_path) == untracked.audio_sha256
    assert untracked.audio_path is not None
    assert ctx.store.stat(untracked.audio_path) is None
    assert [a.generation_id for a in attempts(ctx.engine, job_id)] == [generation_id]
    assert customer(ctx.engine).jobs_ready == 1
    assert len(all_jobs(ctx.engine)) == 1
    return adopted


class TestAdoptForOperator:
    def test_an_untracked_generation_moves_with_its_audio(
        self, ctx: ProcessorContext, vpai: Sandbox
    ) -> None:
        """Local store: attempt, audio (into the job's place) and usage move; the untracked
        job and its file go."""
        job_id, generation_id, untracked = job_in_review_and_untracked_ready(ctx, vpai)

        note = adopt_for_operator(ctx.engine, ctx.store, ctx.audio_dir, job_id, generation_id)

        assert "untracked" in note
        adopted = assert_moved(ctx, job_id, generation_id, untracked)
        assert adopted.audio_path is not None
        assert (ctx.audio_dir / adopted.audio_path).is_file()
        assert not list(ctx.audio_dir.rglob("*.part"))

    def test_in_a_bucket_the_audio_moves_inside_the_bucket(
        self, ctx: ProcessorContext, vpai: Sandbox, s3_server: ThrowawayS3, bucket: str
    ) -> None:
        """S3 store: the object is copied to the job's key and the untracked one deleted;
        nothing of it is left on the local disk."""
        ctx.store = open_store(s3_settings(s3_server, bucket))
        job_id, generation_id, untracked = job_in_review_and_untracked_ready(ctx, vpai)
        assert untracked.audio_store == f"s3://{bucket}/audio"

        adopt_for_operator(ctx.engine, ctx.store, ctx.audio_dir, job_id, generation_id)

        adopted = assert_moved(ctx, job_id, generation_id, untracked)
        assert list(bucket_objects(s3_server, bucket)) == [f"audio/{adopted.audio_path}"]
        stat = ctx.store.stat(str(adopted.audio_path))
        assert stat is not None
        assert stat.sha256 == adopted.audio_sha256
        assert stat.metadata.get("duration") == repr(adopted.audio_duration_sec)
        assert not [p for p in ctx.audio_dir.rglob("*") if p.is_file()]

    def test_audio_that_is_not_the_recorded_file_is_not_adopted(
        self, ctx: ProcessorContext, vpai: Sandbox
    ) -> None:
        """A file changed since it was verified is refused; nothing is recorded or deleted."""
        job_id, generation_id, untracked = job_in_review_and_untracked_ready(ctx, vpai)
        assert untracked.audio_path is not None
        (ctx.audio_dir / untracked.audio_path).write_bytes(b"RIFF not what was verified")

        with pytest.raises(ChecksumMismatch):
            adopt_for_operator(ctx.engine, ctx.store, ctx.audio_dir, job_id, generation_id)

        assert job(ctx.engine, job_id).status == "needs_review"
        assert ctx.store.keys(f"{job(ctx.engine, job_id).customer_id}") == []
        assert (ctx.audio_dir / untracked.audio_path).is_file()

    def test_audio_in_another_store_stays_where_it_is(
        self, ctx: ProcessorContext, vpai: Sandbox
    ) -> None:
        """Audio recorded in a store this one is not (a migration under way) is neither
        copied nor deleted: the job's records name that store and key."""
        job_id, generation_id, untracked = job_in_review_and_untracked_ready(ctx, vpai)
        elsewhere = "s3://another-bucket/audio"
        with ctx.engine.begin() as conn:
            conn.execute(
                update(JOBS).where(JOBS.c.id == untracked.id).values(audio_store=elsewhere)
            )

        adopt_for_operator(ctx.engine, ctx.store, ctx.audio_dir, job_id, generation_id)

        adopted = job(ctx.engine, job_id)
        assert adopted.status == "ready"
        assert (adopted.audio_store, adopted.audio_path) == (elsewhere, untracked.audio_path)
        assert untracked.audio_path is not None
        assert (ctx.audio_dir / untracked.audio_path).is_file()  # not this store's to delete
        assert ctx.store.keys(str(adopted.customer_id)) == []

    def test_a_generation_nobody_recorded_is_left_to_reconciliation(
        self, ctx: ProcessorContext
    ) -> None:
        """Adopted as the unknown attempt's, the job `submitted`, for reconciliation to poll."""
        job_id = job_in_review(ctx)
        note = adopt_for_operator(ctx.engine, ctx.store, ctx.audio_dir, job_id, "gen-upstream")
        assert "reconciliation will poll it" in note
        assert job(ctx.engine, job_id).status == "submitted"
        assert [a.generation_id for a in attempts(ctx.engine, job_id)] == ["gen-upstream"]

    def test_a_generation_of_another_tracked_job_refuses(self, ctx: ProcessorContext) -> None:
        """A generation another job of ours made is not this one's to adopt."""
        other = new_job(ctx.engine)
        submission = start_submission(ctx.engine, other)
        assert submission is not None
        submission_accepted(ctx.engine, submission, "gen-other", 5)
        job_id = job_in_review(ctx)
        with pytest.raises(AdoptionRefused, match=f"belongs to job {other}"):
            adopt_for_operator(ctx.engine, ctx.store, ctx.audio_dir, job_id, "gen-other")
        assert job(ctx.engine, job_id).status == "needs_review"

    def test_an_unknown_job_refuses(self, ctx: ProcessorContext) -> None:
        """A job id that is not ours is said to be so."""
        with pytest.raises(AdoptionRefused, match="no job nope"):
            adopt_for_operator(ctx.engine, ctx.store, ctx.audio_dir, "nope", "gen-x")

    def test_a_job_without_an_unknown_outcome_refuses(self, ctx: ProcessorContext) -> None:
        """A pending job has nothing to adopt a generation for."""
        job_id = new_job(ctx.engine)
        with pytest.raises(AdoptionRefused, match="no submission of unknown outcome"):
            adopt_for_operator(ctx.engine, ctx.store, ctx.audio_dir, job_id, "gen-x")
