"""The one code path for what an operator or the business's app does to jobs: resume the
blocked, retry the failed. The CLI, the internal API and the dashboard all call these.

Each action moves jobs in the database (`records.job_transitions`, one transaction, conditional
updates so concurrent actions on one job move it once), then enqueues the moved ids for
submission. The workers submit them within the shared API budget; if Redis refuses, the
jobs are stored `pending` all the same and the sweeper enqueues them (`recover_jobs`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

import structlog
from sqlalchemy import Engine

from config.errors import BrokerUnavailable
from records import job_transitions
from records.jobs import JobStatus

if TYPE_CHECKING:  # the broker's module loads Dramatiq; reads start without it (issue 13)
    from config.broker import EnqueueIds

log = structlog.get_logger(__name__)


class JobAction(StrEnum):
    RESUME = "resume"
    RETRY = "retry"


class Outcome(StrEnum):
    DONE = "done"  # moved back to pending and enqueued (or left to the sweeper)
    REFUSED = "refused"  # the job is not in a state this action applies to
    NOT_FOUND = "not_found"


# The status each action applies to, and why another status is refused.
SOURCE = {JobAction.RESUME: JobStatus.BLOCKED, JobAction.RETRY: JobStatus.FAILED}
ALREADY = "it is already pending (another action moved it first)"


@dataclass(frozen=True)
class JobOutcome:
    job_id: str
    outcome: Outcome
    reason: str | None = None


@dataclass
class JobActionResult:
    action: JobAction
    outcomes: list[JobOutcome] = field(default_factory=list)
    enqueued: bool = True  # False: the broker refused; the sweeper submits them later

    @property
    def done(self) -> list[str]:
        return [o.job_id for o in self.outcomes if o.outcome is Outcome.DONE]

    def document(self) -> dict[str, Any]:
        """The result as the CLI's --json and the internal API show it."""
        return {
            "action": self.action.value,
            "jobs": [
                {"id": o.job_id, "outcome": o.outcome.value, "reason": o.reason}
                for o in self.outcomes
            ],
            "enqueued": self.enqueued,
        }


def refusal(action: JobAction, status: str) -> str:
    """Why `action` does not apply to a job in `status`."""
    if status == JobStatus.PENDING:
        return ALREADY
    return f"only a {SOURCE[action].value} job can be {action.value}d; this one is {status}"


def resume_jobs(engine: Engine, job_ids: Sequence[str], enqueue: EnqueueIds) -> JobActionResult:
    """Blocked jobs (those named, or every one) back to pending, then enqueued."""
    return _act(JobAction.RESUME, job_transitions.resume_blocked, engine, job_ids, enqueue)


def retry_jobs(engine: Engine, job_ids: Sequence[str], enqueue: EnqueueIds) -> JobActionResult:
    """Failed jobs (those named, or every one) get one new attempt: pending, then enqueued."""
    return _act(JobAction.RETRY, job_transitions.retry_failed, engine, job_ids, enqueue)


def _act(
    action: JobAction,
    move: Callable[[Engine, Sequence[str]], job_transitions.Transition],
    engine: Engine,
    job_ids: Sequence[str],
    enqueue: EnqueueIds,
) -> JobActionResult:
    transition = move(engine, job_ids)
    result = JobActionResult(action)
    result.outcomes = [JobOutcome(job_id, Outcome.DONE) for job_id in transition.moved]
    for job_id, status in transition.left.items():
        if status is None:
            result.outcomes.append(JobOutcome(job_id, Outcome.NOT_FOUND, f"no job {job_id}"))
        else:
            result.outcomes.append(JobOutcome(job_id, Outcome.REFUSED, refusal(action, status)))
    if transition.moved:
        try:
            enqueue(transition.moved)
        except BrokerUnavailable as exc:
            result.enqueued = False
            log.warning("job_actions.enqueue_failed", action=action.value, error=str(exc))
    return result
