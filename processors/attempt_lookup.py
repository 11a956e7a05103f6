"""The attempt a generation's webhook is about, as the handlers look it up."""

from __future__ import annotations

from sqlalchemy import Engine

from processors.errors import SubmissionInFlight
from records.job_outcomes import AttemptView, attempt_for_generation

IN_FLIGHT_RETRY_SECONDS = 2.0


def attempt_of(
    engine: Engine, generation_id: str, *, untracked_format: str, max_attempts: int
) -> AttemptView:
    """The generation's attempt (an untracked job's for a stranger's generation).

    Raises SubmissionInFlight while a submission of ours may be about to record it.
    """
    view = attempt_for_generation(
        engine, generation_id, untracked_format=untracked_format, max_attempts=max_attempts
    )
    if view is None:
        raise SubmissionInFlight(
            IN_FLIGHT_RETRY_SECONDS,
            f"a submission is being recorded; generation {generation_id} may be its",
        )
    return view
