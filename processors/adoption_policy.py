"""Which submission of unknown outcome a generation nobody recorded belongs to (pure).

The upstream has no idempotency key and its generation documents carry neither the voice
nor the script, so what can be matched is what the webhook says: when the generation was
made (`createdAt`) and, for a ready one, its format (the download URL's extension). A
generation is adopted only when exactly one submission of ours could have made it: its
intent was recorded at most `window_seconds` (one budget wait plus one request timeout)
before the generation was made, and its format agrees.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from records.jobs import AttemptStatus, JobStatus
from records.unknown_outcomes import UnknownSubmission

# `createdAt` has whole seconds, and two clocks are compared.
CLOCK_SLACK_SECONDS = 2.0


class MatchKind(StrEnum):
    ADOPT = "adopt"  # exactly one submission could have made it
    WAIT = "wait"  # a submission that may have made it is still being answered
    STRANGER = "stranger"  # none could have: an untracked generation
    AMBIGUOUS = "ambiguous"  # several could have: recorded untracked, the jobs go to review


@dataclass(frozen=True)
class Match:
    kind: MatchKind
    attempt_id: str | None = None
    candidates: tuple[str, ...] = ()


@dataclass(frozen=True)
class MatchRules:
    window_seconds: float  # the longest a live submission takes from intent to the POST
    lease_seconds: float  # past it, a submission's worker is taken for dead


def in_flight(candidate: UnknownSubmission, now: datetime, lease_seconds: float) -> bool:
    """Whether the worker of this submission may still record its answer."""
    return (
        candidate.attempt_status == AttemptStatus.SUBMITTING
        and candidate.job_status == JobStatus.SUBMITTING
        and now - candidate.job_updated_at < timedelta(seconds=lease_seconds)
    )


def could_have_made(
    candidate: UnknownSubmission, created_at: datetime, audio_format: str | None, window: float
) -> bool:
    """Whether this submission's POST could have made a generation created at `created_at`."""
    if candidate.intent_at is None:
        return False
    if audio_format is not None and candidate.format != audio_format:
        return False
    slack = timedelta(seconds=CLOCK_SLACK_SECONDS)
    earliest = candidate.intent_at - slack
    latest = candidate.intent_at + timedelta(seconds=window) + slack
    return earliest <= created_at <= latest


def match_generation(
    created_at: datetime | None,
    audio_format: str | None,
    candidates: Sequence[UnknownSubmission],
    now: datetime,
    rules: MatchRules,
) -> Match:
    """What to do with a generation that no attempt of ours has recorded."""
    if created_at is None:
        # Nothing to match on: wait while any answer is due, then take it for a stranger's.
        if any(in_flight(c, now, rules.lease_seconds) for c in candidates):
            return Match(MatchKind.WAIT)
        return Match(MatchKind.STRANGER)
    possible = [
        c for c in candidates if could_have_made(c, created_at, audio_format, rules.window_seconds)
    ]
    if any(in_flight(c, now, rules.lease_seconds) for c in possible):
        return Match(MatchKind.WAIT)
    if len(possible) == 1:
        return Match(MatchKind.ADOPT, possible[0].attempt_id, (possible[0].job_id,))
    if possible:
        return Match(MatchKind.AMBIGUOUS, candidates=tuple(c.job_id for c in possible))
    return Match(MatchKind.STRANGER)
