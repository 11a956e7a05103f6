"""`generation.failed` and submissions against the sandbox: retries, limits, order, refusals."""

from __future__ import annotations

from datetime import timedelta

import orjson
import pytest
import redis
from sqlalchemy import update

from processors.errors import RetryLater
from processors.handlers.submit import submit_job
from processors.worker import ProcessorContext
from records.jobs import JOBS
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


def make_due(ctx: ProcessorContext, job_id: str) -> None:
    """Skip the backoff wait, as if its time had come."""
    with ctx.engine.begin() as conn:
        conn.execute(
            update(JOBS)
            .where(JOBS.c.id == job_id)
            .values(next_attempt_at=utcnow() - timedelta(seconds=1))
        )


def failed_attempt(ctx: ProcessorContext, vpai: Sandbox, job_id: str) -> dict[str, object]:
    """Submit the job's next attempt, let the sandbox fail it; the failed generation."""
    vpai.faults(generationFailureRate=1.0)
    assert "submitted" in submit_job(ctx, job_id)
    generation_id = attempts(ctx.engine, job_id)[-1].generation_id
    assert generation_id is not None
    generation = vpai.wait_until_settled(generation_id)
    vpai.faults(generationFailureRate=0.0)
    assert generation["status"] == "failed"
    return generation


def delayed_submissions(redis_url: str) -> list[tuple[str, int]]:
    """(job id, eta ms) of the submit messages waiting in Dramatiq's delay queue."""
    client = redis.Redis.from_url(redis_url)
    found = []
    for raw in client.hvals("dramatiq:jobs.DQ.msgs"):
        message = orjson.loads(raw)
        found.append((str(message["args"][0]), int(message["options"]["eta"])))
    return found


class TestFailed:
    def test_first_failure_schedules_a_retry_after_30s(
        self, ctx: ProcessorContext, vpai: Sandbox, redis_url: str
    ) -> None:
        """Attempt 1 fails: job waits 30 s for attempt 2, and a delayed submission is queued."""
        job_id = new_job(ctx.engine)
        generation = failed_attempt(ctx, vpai, job_id)
        event_id = store_event(ctx.engine, "generation.failed", generation)
        process(ctx, event_id)
        waiting = job(ctx.engine, job_id)
        assert waiting.status == "retry_wait"
        assert waiting.next_attempt_at is not None
        delay = (waiting.next_attempt_at - utcnow()).total_seconds()
        assert 25 < delay <= 30
        assert waiting.last_error is not None
        assert "generation failed" in waiting.last_error
        [(queued_job, eta)] = delayed_submissions(redis_url)
        assert queued_job == job_id
        assert 25_000 < eta - utcnow().timestamp() * 1000 <= 30_500
        assert [a.status for a in attempts(ctx.engine, job_id)] == ["failed"]
        assert event(ctx.engine, event_id).status == "processed"

    def test_retry_makes_a_new_attempt_and_the_limit_fails_the_job(
        self, ctx: ProcessorContext, vpai: Sandbox
    ) -> None:
        """Three failed attempts: attempts 1-3 exist, the job fails, the customer counts it once."""
        job_id = new_job(ctx.engine)
        for _ in range(3):
            generation = failed_attempt(ctx, vpai, job_id)
            process(ctx, store_event(ctx.engine, "generation.failed", generation))
            make_due(ctx, job_id)
        failed = job(ctx.engine, job_id)
        assert failed.status == "failed"
        assert failed.attempts_made == 3
        assert [a.number for a in attempts(ctx.engine, job_id)] == [1, 2, 3]
        assert {a.status for a in attempts(ctx.engine, job_id)} == {"failed"}
        assert customer(ctx.engine).jobs_failed == 1
        assert submit_job(ctx, job_id) == "no submission due"

    def test_a_late_failure_never_moves_a_ready_job_back(
        self, ctx: ProcessorContext, vpai: Sandbox
    ) -> None:
        """Attempt 1's failure arriving after attempt 2 is ready leaves the job ready."""
        job_id = new_job(ctx.engine)
        first = failed_attempt(ctx, vpai, job_id)
        process(ctx, store_event(ctx.engine, "generation.failed", first))
        make_due(ctx, job_id)
        assert "submitted" in submit_job(ctx, job_id)
        second_id = attempts(ctx.engine, job_id)[-1].generation_id
        assert second_id is not None
        ready = vpai.wait_until_settled(second_id)
        process(ctx, store_event(ctx.engine, "generation.ready", ready))
        assert job(ctx.engine, job_id).status == "ready"
        # The first failure delivered again, hours later, as a new copy (different body).
        late = store_event(ctx.engine, "generation.failed", {**first, "note": "late"})
        process(ctx, late)
        assert job(ctx.engine, job_id).status == "ready"
        assert customer(ctx.engine).jobs_failed == 0
        assert customer(ctx.engine).jobs_ready == 1

    def test_the_same_failure_twice_retries_once(
        self, ctx: ProcessorContext, vpai: Sandbox, redis_url: str
    ) -> None:
        """Reprocessing a failure schedules one retry, not two."""
        job_id = new_job(ctx.engine)
        generation = failed_attempt(ctx, vpai, job_id)
        event_id = store_event(ctx.engine, "generation.failed", generation)
        process(ctx, event_id)
        with ctx.engine.begin() as conn:
            conn.execute(update(JOBS).where(JOBS.c.id == job_id).values(updated_at=utcnow()))
            conn.exec_driver_sql("UPDATE events SET status = 'queued'")
        process(ctx, event_id)
        assert len(delayed_submissions(redis_url)) == 1
        assert job(ctx.engine, job_id).attempts_made == 1

    def test_untracked_failure_is_recorded_not_retried(
        self, ctx: ProcessorContext, vpai: Sandbox, redis_url: str
    ) -> None:
        """A failure of a generation this service never submitted is kept, with the reason."""
        generation = vpai.make_generation("failed", error="voice_unavailable")
        event_id = store_event(ctx.engine, "generation.failed", generation)
        process(ctx, event_id)
        assert event(ctx.engine, event_id).status == "processed"
        assert delayed_submissions(redis_url) == []
        with ctx.engine.connect() as conn:
            [(status, error)] = conn.exec_driver_sql(
                "SELECT status, last_error FROM jobs WHERE tracked = false"
                if ctx.engine.dialect.name == "postgresql"
                else "SELECT status, last_error FROM jobs WHERE tracked = 0"
            ).all()
        assert status == "failed"
        assert "not submitted by this service" in error
        assert "voice_unavailable" in error


class TestSubmissionRefusals:
    def test_insufficient_credits_blocks_the_job(
        self, ctx: ProcessorContext, vpai: Sandbox
    ) -> None:
        """402: the job is blocked with a message saying how to resume; no attempt is counted."""
        vpai.set_workspace(credits=0)
        job_id = new_job(ctx.engine)
        assert submit_job(ctx, job_id) == "blocked: insufficient credits"
        blocked = job(ctx.engine, job_id)
        assert blocked.status == "blocked"
        assert blocked.last_error is not None
        assert "jobs resume" in blocked.last_error
        assert attempts(ctx.engine, job_id) == []
        assert submit_job(ctx, job_id) == "no submission due"

    def test_plan_refusal_fails_with_what_to_fix(
        self, ctx: ProcessorContext, vpai: Sandbox
    ) -> None:
        """403 public_api_requires_scale: the job fails saying the plan is the problem."""
        vpai.set_workspace(plan="pro")
        job_id = new_job(ctx.engine)
        assert "Scale plan" in submit_job(ctx, job_id)
        failed = job(ctx.engine, job_id)
        assert failed.status == "failed"
        assert failed.last_error is not None
        assert "public_api_requires_scale" in failed.last_error
        assert customer(ctx.engine).jobs_failed == 1

    def test_a_refused_request_keeps_the_apis_words(
        self, ctx: ProcessorContext, vpai: Sandbox
    ) -> None:
        """400 invalid_request for a voice id that is not one: lastError quotes the API."""
        job_id = new_job(ctx.engine, voice_id="not-a-uuid")
        assert "failed" in submit_job(ctx, job_id)
        failed = job(ctx.engine, job_id)
        assert failed.status == "failed"
        assert failed.last_error is not None
        assert failed.last_error.startswith("invalid_request: ")
        assert "the API said: voiceId" in failed.last_error
        assert "\n" not in failed.last_error

    def test_429_is_a_wait_not_an_attempt(self, ctx: ProcessorContext, vpai: Sandbox) -> None:
        """A forced 429: RetryLater with retryAfter, no attempt, the job stays pending."""
        vpai.faults(force429=1)
        job_id = new_job(ctx.engine)
        with pytest.raises(RetryLater) as raised:
            submit_job(ctx, job_id)
        assert raised.value.delay_seconds == 60
        pending = job(ctx.engine, job_id)
        assert pending.status == "pending"
        assert pending.attempts_made == 0
        assert attempts(ctx.engine, job_id) == []
        assert ctx.api.budget.try_acquire() > 50  # every process now waits out the 429
