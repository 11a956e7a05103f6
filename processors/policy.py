"""The decisions of job processing, as plain functions over plain values.

Events arrive at least once and out of order; these rules make every handler idempotent
and keep a job from ever moving backwards.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from records.jobs import TERMINAL_JOB_STATES, AttemptStatus, JobStatus


def retry_delay(attempts_made: int, backoff: Sequence[float]) -> float:
    """Seconds to wait before the next attempt, after `attempts_made` attempts (>= 1)."""
    if not backoff:
        return 0.0
    return float(backoff[min(max(attempts_made, 1) - 1, len(backoff) - 1)])


class ReadyAction(StrEnum):
    FETCH = "fetch"  # download the audio and complete the job
    RECORD_ONLY = "record_only"  # the job is done already; note the attempt, change nothing else


def on_ready(job_status: str) -> ReadyAction:
    """A ready generation completes any job that is not complete yet, whichever attempt it was."""
    if job_status == JobStatus.READY:
        return ReadyAction.RECORD_ONLY
    return ReadyAction.FETCH


class FailureAction(StrEnum):
    RETRY = "retry"
    GIVE_UP = "give_up"
    RECORD_ONLY = "record_only"


@dataclass(frozen=True)
class FailureDecision:
    action: FailureAction
    delay_seconds: float = 0.0
    reason: str = ""


def on_failed(
    *,
    tracked: bool,
    job_status: str,
    attempt_status: str,
    is_latest_attempt: bool,
    attempts_made: int,
    max_attempts: int,
    backoff: Sequence[float],
) -> FailureDecision:
    """What a `generation.failed` does to its job."""
    if not tracked:
        return FailureDecision(
            FailureAction.RECORD_ONLY,
            reason="generation was not submitted by this service; not retried",
        )
    if job_status in TERMINAL_JOB_STATES or job_status == JobStatus.BLOCKED:
        return FailureDecision(FailureAction.RECORD_ONLY, reason=f"job already {job_status}")
    if not is_latest_attempt or attempt_status in (AttemptStatus.SUPERSEDED, AttemptStatus.READY):
        return FailureDecision(FailureAction.RECORD_ONLY, reason="attempt already superseded")
    if attempt_status == AttemptStatus.FAILED:
        return FailureDecision(FailureAction.RECORD_ONLY, reason="failure already recorded")
    if attempts_made >= max_attempts:
        return FailureDecision(
            FailureAction.GIVE_UP, reason=f"failed after {attempts_made} attempt(s)"
        )
    return FailureDecision(FailureAction.RETRY, delay_seconds=retry_delay(attempts_made, backoff))
