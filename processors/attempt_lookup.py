"""The attempt a generation's webhook is about, as the handlers look it up.

A generation no attempt has recorded is adopted by the one submission of unknown outcome
that could have made it (`adoption_policy`), waited for while such a submission may still
record it, or else filed as an untracked job.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import structlog
from sqlalchemy import Engine

from processors.adoption_policy import MatchKind, MatchRules, match_generation
from processors.errors import SubmissionInFlight
from records.adoption import adopt_generation
from records.attempt_views import AttemptView, find_attempt
from records.job_outcomes import attempt_for_generation
from records.types import utcnow
from records.unknown_outcomes import unknown_submissions

log = structlog.get_logger(__name__)

# A submission records its answer within milliseconds of it unless the database keeps it
# waiting, so the event looks again soon, then less and less often (a flat 2 s made every
# webhook that overtook its submission's commit a 2 s outlier of `bench e2e`).
IN_FLIGHT_FIRST_RETRY_SECONDS = 0.05
IN_FLIGHT_MAX_RETRY_SECONDS = 2.0


def in_flight_retry_seconds(claims: int) -> float:
    """How long an event waits for its submission's commit after its `claims`-th claim:
    50 ms after the first, doubling each time up to 2 s."""
    doublings = min(max(claims, 1) - 1, 16)
    return min(IN_FLIGHT_FIRST_RETRY_SECONDS * (1 << doublings), IN_FLIGHT_MAX_RETRY_SECONDS)


def attempt_of(
    engine: Engine,
    generation_id: str,
    data: dict[str, Any],
    *,
    untracked_format: str,
    audio_format: str | None,
    max_attempts: int,
    rules: MatchRules,
    claims: int,
    known: AttemptView | None = None,
) -> AttemptView:
    """The generation's attempt: recorded, adopted, or an untracked job's.

    `data` is the generation as the event carries it (its `createdAt` is matched on).
    `known`: the attempt as the event's claim already found it (not looked up again).
    Raises SubmissionInFlight while a submission of ours may be about to record it, with a
    delay that grows with the event's `claims` (`in_flight_retry_seconds`).
    """
    view = known if known is not None else find_attempt(engine, generation_id)
    if view is not None:
        return view
    created_at = created_at_of(data)
    match = match_generation(created_at, audio_format, unknown_submissions(engine), utcnow(), rules)
    if match.kind is MatchKind.WAIT:
        raise SubmissionInFlight(
            in_flight_retry_seconds(claims),
            f"a submission is being recorded; generation {generation_id} may be its",
        )
    if match.kind is MatchKind.ADOPT and match.attempt_id is not None:
        if adopt_generation(engine, match.attempt_id, generation_id, created_at):
            log.warning(
                "submission.adopted", generation_id=generation_id, job_id=match.candidates[0]
            )
    elif match.kind is MatchKind.AMBIGUOUS:
        log.warning(
            "submission.ambiguous", generation_id=generation_id, jobs=list(match.candidates)
        )
    return attempt_for_generation(
        engine, generation_id, untracked_format=untracked_format, max_attempts=max_attempts
    )


def created_at_of(data: dict[str, Any]) -> datetime | None:
    """The generation's `createdAt`, when the event carries a readable one."""
    value = data.get("createdAt")
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)
