"""An operator adopting a generation that was filed as an untracked job."""

from __future__ import annotations

import hashlib

import pytest
from sqlmodel import Session, select

from processors.errors import AdoptionRefused
from processors.review import adopt_for_operator
from processors.worker import ProcessorContext
from records.adoption import settle_unknown_submissions
from records.jobs import Job
from records.submission_repo import start_submission
from tests.processors.flow import (
    Sandbox,
    attempts,
    customer,
    job,
    new_job,
    process,
    store_event,
)


class TestAdoptForOperator:
    def test_an_untracked_generation_moves_with_its_audio(
        self, ctx: ProcessorContext, vpai: Sandbox
    ) -> None:
        """Attempt, audio (into the job's place) and usage move; the untracked job goes."""
        stray = vpai.make_generation(format="wav")  # filed before anything could match it
        process(ctx, store_event(ctx.engine, "generation.ready", stray))
        job_id = new_job(ctx.engine)
        assert start_submission(ctx.engine, job_id) is not None
        settle_unknown_submissions(ctx.engine, lease_seconds=1e-6, review_after_seconds=1e-6)
        assert job(ctx.engine, job_id).status == "needs_review"
        with Session(ctx.engine) as session:
            [untracked] = list(session.exec(select(Job).where(Job.tracked == False)))  # noqa: E712
        assert untracked.audio_path is not None
        old_file = ctx.audio_dir / untracked.audio_path
        digest = hashlib.sha256(old_file.read_bytes()).hexdigest()

        note = adopt_for_operator(ctx.engine, ctx.audio_dir, job_id, stray["id"])

        assert "untracked" in note
        adopted = job(ctx.engine, job_id)
        assert (adopted.status, adopted.last_error) == ("ready", None)
        assert adopted.audio_path is not None
        assert adopted.audio_path.startswith(f"{adopted.customer_id}/")
        new_file = ctx.audio_dir / adopted.audio_path
        assert hashlib.sha256(new_file.read_bytes()).hexdigest() == digest
        assert not old_file.exists()
        assert [a.generation_id for a in attempts(ctx.engine, job_id)] == [stray["id"]]
        assert customer(ctx.engine).jobs_ready == 1
        with Session(ctx.engine) as session:
            assert len(list(session.exec(select(Job)))) == 1

    def test_a_job_without_an_unknown_outcome_refuses(self, ctx: ProcessorContext) -> None:
        """A pending job has nothing to adopt a generation for."""
        job_id = new_job(ctx.engine)
        with pytest.raises(AdoptionRefused, match="no submission of unknown outcome"):
            adopt_for_operator(ctx.engine, ctx.audio_dir, job_id, "gen-x")
