"""Which submission of unknown outcome a generation nobody recorded belongs to."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from processors.adoption_policy import MatchKind, MatchRules, match_generation
from records.unknown_outcomes import UnknownSubmission

NOW = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)
RULES = MatchRules(window_seconds=17.0, lease_seconds=120.0)


def unknown(
    job_id: str,
    intent_ago: float,
    *,
    audio_format: str = "wav",
    status: str = "unknown",
    job_status: str = "submitting",
    touched_ago: float = 600.0,
) -> UnknownSubmission:
    return UnknownSubmission(
        attempt_id=f"attempt-{job_id}",
        job_id=job_id,
        number=1,
        attempt_status=status,
        job_status=job_status,
        format=audio_format,
        intent_at=NOW - timedelta(seconds=intent_ago),
        job_updated_at=NOW - timedelta(seconds=touched_ago),
    )


def made(ago: float) -> datetime:
    return NOW - timedelta(seconds=ago)


class TestMatchGeneration:
    def test_the_one_submission_in_the_window_adopts_it(self) -> None:
        """A generation made a few seconds after exactly one intent is that intent's."""
        match = match_generation(made(595), "wav", [unknown("a", 600)], NOW, RULES)
        assert (match.kind, match.attempt_id) == (MatchKind.ADOPT, "attempt-a")

    def test_outside_every_window_it_is_a_strangers(self) -> None:
        """Made long after any intent (or before one): not ours."""
        assert match_generation(made(60), "wav", [unknown("a", 600)], NOW, RULES).kind is (
            MatchKind.STRANGER
        )
        assert match_generation(made(700), "wav", [unknown("a", 600)], NOW, RULES).kind is (
            MatchKind.STRANGER
        )

    def test_the_format_must_agree(self) -> None:
        """A wav generation is not adopted by an mp3 job; a failed one (no format) may be."""
        assert match_generation(made(595), "mp3", [unknown("a", 600)], NOW, RULES).kind is (
            MatchKind.STRANGER
        )
        assert match_generation(made(595), None, [unknown("a", 600)], NOW, RULES).kind is (
            MatchKind.ADOPT
        )

    def test_two_possible_submissions_are_ambiguous(self) -> None:
        """When two intents could have made it, neither adopts it."""
        match = match_generation(
            made(595), "wav", [unknown("a", 600), unknown("b", 598)], NOW, RULES
        )
        assert match.kind is MatchKind.AMBIGUOUS
        assert set(match.candidates) == {"a", "b"}

    def test_a_live_submission_is_waited_for(self) -> None:
        """Within its lease a submission may still record its answer: wait for it."""
        live = unknown("a", 3, status="submitting", touched_ago=3)
        assert match_generation(made(1), "wav", [live], NOW, RULES).kind is MatchKind.WAIT

    def test_without_created_at_only_live_submissions_are_waited_for(self) -> None:
        """Nothing to match on: wait while an answer is due, then it is a stranger's."""
        live = unknown("a", 3, status="submitting", touched_ago=3)
        assert match_generation(None, "wav", [live], NOW, RULES).kind is MatchKind.WAIT
        assert match_generation(None, "wav", [unknown("a", 600)], NOW, RULES).kind is (
            MatchKind.STRANGER
        )

    def test_a_job_in_review_still_adopts_its_generation(self) -> None:
        """A late webhook settles a job an operator has not acted on yet."""
        waiting = unknown("a", 4000, job_status="needs_review")
        assert match_generation(made(3995), "wav", [waiting], NOW, RULES).kind is (MatchKind.ADOPT)
