"""`generation.failed`: retry the job with a new attempt, or give up, never moving backwards."""

from __future__ import annotations

from processors.attempt_lookup import attempt_of
from processors.errors import PermanentFailure
from processors.policy import FailureAction, on_failed
from processors.worker import ProcessorContext
from records.claims import ClaimedEvent
from records.job_outcomes import fail_job, record_attempt, schedule_retry
from records.jobs import AttemptStatus


def handle_generation_failed(ctx: ProcessorContext, event: ClaimedEvent) -> str:
    generation_id = event.resource_id
    if generation_id is None:
        raise PermanentFailure("generation.failed without data.id")
    upstream_error = event.data.get("error")
    reason = f"generation failed: {upstream_error}" if upstream_error else "generation failed"
    view = attempt_of(
        ctx.engine,
        generation_id,
        event.data,
        untracked_format="mp3",
        audio_format=None,
        max_attempts=ctx.max_attempts,
        rules=ctx.adoption,
        claims=event.attempts,
        known=event.attempt,
    )
    decision = on_failed(
        tracked=view.tracked,
        job_status=view.job_status,
        attempt_status=view.attempt_status,
        is_latest_attempt=view.number == view.latest_number,
        attempts_made=view.attempts_made,
        max_attempts=view.max_attempts,
        backoff=ctx.retry_backoff,
    )
    if decision.action is FailureAction.RETRY:
        if schedule_retry(ctx.engine, view, reason, decision.delay_seconds):
            ctx.schedule_submission(view.job_id, decision.delay_seconds)
            return f"attempt {view.number} failed; retry in {decision.delay_seconds:g}s"
        return "failure already handled by another delivery"
    if decision.action is FailureAction.GIVE_UP:
        fail_job(ctx.engine, view, f"{reason} ({decision.reason})")
        return f"job failed: {decision.reason}"
    if not view.tracked:
        fail_job(ctx.engine, view, f"{reason}; {decision.reason}")
        return decision.reason
    if view.attempt_status != AttemptStatus.READY:
        record_attempt(ctx.engine, view.attempt_id, AttemptStatus.FAILED, reason)
    return f"recorded only: {decision.reason}"
