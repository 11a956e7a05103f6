"""Submitting a job's next attempt to `POST /v1/generations`, within the budget."""

from __future__ import annotations

from processors.errors import (
    AnswerLost,
    ApiError,
    InsufficientCredits,
    RetryLater,
    TransientApiError,
)
from processors.vpai import explain
from processors.worker import ProcessorContext
from records.jobs import JobStatus
from records.submission_repo import (
    start_submission,
    submission_accepted,
    submission_postponed,
    submission_refused,
)
from records.unknown_outcomes import answer_lost

SUBMISSION_GATE_RETRY_SECONDS = 1.0


def submit_job(ctx: ProcessorContext, job_id: str) -> str:
    """Make the job's next attempt if one is due; a note of what happened."""
    gate = ctx.submission_gate
    token = None
    if gate is not None:
        token = gate.enter(ctx.api.max_budget_wait_seconds)
        if token is None:
            raise RetryLater(SUBMISSION_GATE_RETRY_SECONDS, "another submission is in flight")
    try:
        return _submit(ctx, job_id)
    finally:
        if gate is not None and token is not None:
            gate.leave(token)


def _submit(ctx: ProcessorContext, job_id: str) -> str:
    submission = start_submission(ctx.engine, job_id)
    if submission is None:
        return "no submission due"
    try:
        answer = ctx.api.submit_generation(
            submission.voice_id, submission.script, submission.format, submission.settings
        )
    except AnswerLost as exc:
        # The upstream may have made (and charged) the generation: never POST it again on
        # our own. Its webhook is adopted, or the job goes to an operator.
        answer_lost(ctx.engine, submission.attempt_id, submission.job_id, str(exc))
        return f"outcome unknown: {exc}"
    except TransientApiError as exc:
        submission_postponed(ctx.engine, submission, exc.retry_after_seconds, str(exc))
        raise RetryLater(exc.retry_after_seconds, str(exc)) from exc
    except InsufficientCredits:
        reason = "insufficient credits: top up, then run `voicehook jobs resume`"
        submission_refused(ctx.engine, submission, JobStatus.BLOCKED, reason)
        return "blocked: insufficient credits"
    except ApiError as exc:
        hint = explain(exc)
        submission_refused(ctx.engine, submission, JobStatus.FAILED, f"{exc.code}: {hint}")
        return f"failed: {hint}"
    submission_accepted(ctx.engine, submission, answer.id, answer.estimated_credits)
    return f"attempt {submission.number} submitted as generation {answer.id}"
