"""A webhook that overtakes the commit of its own submission is not taken for a stranger's."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from processors.attempt_lookup import in_flight_retry_seconds
from processors.worker import ProcessorContext
from records.jobs import ATTEMPTS, JOBS
from records.submission_repo import start_submission, submission_accepted
from records.types import utcnow
from tests.processors.flow import (
    Sandbox,
    all_jobs,
    attempts,
    customer,
    event,
    job,
    new_job,
    process,
    store_event,
)


class TestOvertakingWebhook:
    def test_waits_while_a_submission_is_being_recorded(
        self, ctx: ProcessorContext, vpai: Sandbox
    ) -> None:
        """While our submission has called the API but not committed, the event waits."""
        job_id = new_job(ctx.engine)
        submission = start_submission(ctx.engine, job_id)
        assert submission is not None
        answer = ctx.api.submit_generation(
            submission.voice_id, submission.script, submission.format, submission.settings
        )
        ready = vpai.wait_until_settled(answer.id)
        event_id = store_event(ctx.engine, "generation.ready", ready)
        assert process(ctx, event_id) == [0.05]  # handed back, to look again soon
        assert event(ctx.engine, event_id).status == "queued"
        assert process(ctx, event_id) == [0.1]  # and a little later each time
        assert len(all_jobs(ctx.engine)) == 1  # no untracked job was made
        submission_accepted(ctx.engine, submission, answer.id, answer.estimated_credits)
        assert process(ctx, event_id) == []
        assert job(ctx.engine, job_id).status == "ready"
        assert customer(ctx.engine).jobs_ready == 1

    def test_a_late_commit_adopts_the_untracked_job(
        self, ctx: ProcessorContext, vpai: Sandbox
    ) -> None:
        """If the stranger's job was made anyway, the commit takes its attempt and audio back."""
        job_id = new_job(ctx.engine)
        submission = start_submission(ctx.engine, job_id)
        assert submission is not None
        answer = ctx.api.submit_generation(
            submission.voice_id, submission.script, submission.format, submission.settings
        )
        ready = vpai.wait_until_settled(answer.id)
        old = utcnow() - timedelta(minutes=5)
        with ctx.engine.begin() as conn:  # stuck past its lease, its intent too old to match
            conn.execute(update(JOBS).where(JOBS.c.id == job_id).values(updated_at=old))
            conn.execute(update(ATTEMPTS).where(ATTEMPTS.c.job_id == job_id).values(intent_at=old))
        process(ctx, store_event(ctx.engine, "generation.ready", ready))
        assert len(all_jobs(ctx.engine)) == 2  # ours and an untracked one
        submission_accepted(ctx.engine, submission, answer.id, answer.estimated_credits)
        [only] = all_jobs(ctx.engine)
        assert only.id == job_id
        assert only.status == "ready"
        assert only.audio_path is not None
        assert (ctx.audio_dir / only.audio_path).exists()
        assert customer(ctx.engine).jobs_ready == 1

    def test_a_dead_workers_generation_is_adopted(
        self, ctx: ProcessorContext, vpai: Sandbox
    ) -> None:
        """Past the lease, the one submission that could have made the generation adopts it;
        the worker's answer, if it ever comes, only adds the credits."""
        job_id = new_job(ctx.engine)
        submission = start_submission(ctx.engine, job_id)
        assert submission is not None
        answer = ctx.api.submit_generation(
            submission.voice_id, submission.script, submission.format, submission.settings
        )
        ready = vpai.wait_until_settled(answer.id)
        with ctx.engine.begin() as conn:  # its worker died: the lease has run out
            conn.execute(
                update(JOBS)
                .where(JOBS.c.id == job_id)
                .values(updated_at=utcnow() - timedelta(minutes=5))
            )
        assert process(ctx, store_event(ctx.engine, "generation.ready", ready)) == []
        [only] = all_jobs(ctx.engine)
        assert only.id == job_id
        assert only.status == "ready"
        assert only.last_error is None
        [attempt] = attempts(ctx.engine, job_id)
        assert attempt.generation_id == answer.id
        submission_accepted(ctx.engine, submission, answer.id, answer.estimated_credits)
        assert job(ctx.engine, job_id).status == "ready"
        [attempt] = attempts(ctx.engine, job_id)
        assert attempt.estimated_credits == answer.estimated_credits


class TestInFlightRetry:
    def test_looks_again_soon_then_less_and_less_often(self) -> None:
        """50 ms after the first claim, doubling with each claim, never more than 2 s."""
        delays = [in_flight_retry_seconds(claims) for claims in range(1, 9)]
        assert delays == [0.05, 0.1, 0.2, 0.4, 0.8, 1.6, 2.0, 2.0]
        assert in_flight_retry_seconds(0) == 0.05
        assert in_flight_retry_seconds(10_000) == 2.0
