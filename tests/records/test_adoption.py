"""Submissions of unknown outcome: never resubmitted on their own, explained, reviewed."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine, update

from records.adoption import adopt_generation, resubmit_job
from records.jobs import ATTEMPTS, JOBS
from records.submission_repo import start_submission
from records.types import utcnow
from records.unknown_outcomes import answer_lost, settle_unknown_submissions, unknown_submissions
from tests.processors.flow import attempts, job, new_job


def submitting_job(engine: Engine, ago_seconds: float) -> str:
    """A job whose worker recorded its intent `ago_seconds` ago and was never heard of again."""
    job_id = new_job(engine)
    assert start_submission(engine, job_id) is not None
    then = utcnow() - timedelta(seconds=ago_seconds)
    with engine.begin() as conn:
        conn.execute(update(JOBS).where(JOBS.c.id == job_id).values(updated_at=then))
        conn.execute(update(ATTEMPTS).where(ATTEMPTS.c.job_id == job_id).values(intent_at=then))
    return job_id


class TestSettleUnknownSubmissions:
    def test_past_the_lease_the_job_says_why_and_is_not_resubmitted(
        self, migrated_engine: Engine
    ) -> None:
        """A submission past its lease is marked unknown; the job stays, explained."""
        stuck = submitting_job(migrated_engine, 300)
        live = submitting_job(migrated_engine, 5)
        swept = settle_unknown_submissions(
            migrated_engine, lease_seconds=120, review_after_seconds=1800
        )
        assert swept.marked_unknown == [stuck]
        assert swept.needs_review == []
        found = job(migrated_engine, stuck)
        assert found.status == "submitting"
        assert found.last_error is not None
        assert "outcome unknown" in found.last_error
        assert [a.status for a in attempts(migrated_engine, stuck)] == ["unknown"]
        assert job(migrated_engine, live).last_error is None
        assert start_submission(migrated_engine, stuck) is None

    def test_past_the_review_time_the_job_needs_an_operator(self, migrated_engine: Engine) -> None:
        """No generation adopted in time: `needs_review`, saying what to do."""
        stuck = submitting_job(migrated_engine, 4000)
        swept = settle_unknown_submissions(
            migrated_engine, lease_seconds=120, review_after_seconds=1800
        )
        assert swept.marked_unknown == swept.needs_review == [stuck]
        found = job(migrated_engine, stuck)
        assert found.status == "needs_review"
        assert found.last_error is not None
        assert f"voicehook jobs adopt {stuck}" in found.last_error

    def test_a_lost_answer_is_unknown_at_once(self, migrated_engine: Engine) -> None:
        """A POST that may have reached the upstream is not retried."""
        job_id = new_job(migrated_engine)
        submission = start_submission(migrated_engine, job_id)
        assert submission is not None
        answer_lost(migrated_engine, submission.attempt_id, job_id, "ReadTimeout")
        assert [a.status for a in attempts(migrated_engine, job_id)] == ["unknown"]
        assert [u.job_id for u in unknown_submissions(migrated_engine)] == [job_id]
        assert "ReadTimeout" in (job(migrated_engine, job_id).last_error or "")


class TestOperatorWords:
    def test_adopt_settles_a_job_in_review(self, migrated_engine: Engine) -> None:
        """An adopted generation makes the job `submitted` with that attempt, error cleared."""
        stuck = submitting_job(migrated_engine, 4000)
        settle_unknown_submissions(migrated_engine, lease_seconds=1, review_after_seconds=1)
        [attempt] = attempts(migrated_engine, stuck)
        assert adopt_generation(migrated_engine, attempt.id, "gen-1")
        found = job(migrated_engine, stuck)
        assert (found.status, found.last_error, found.attempts_made) == ("submitted", None, 1)
        assert attempts(migrated_engine, stuck)[0].generation_id == "gen-1"
        assert not adopt_generation(migrated_engine, attempt.id, "gen-2")

    def test_resubmit_abandons_the_unknown_attempt(self, migrated_engine: Engine) -> None:
        """Only on an operator's word is a new attempt made, numbered after the unknown one."""
        stuck = submitting_job(migrated_engine, 4000)
        assert not resubmit_job(migrated_engine, stuck)  # not in review yet
        settle_unknown_submissions(migrated_engine, lease_seconds=1, review_after_seconds=1)
        assert resubmit_job(migrated_engine, stuck)
        assert job(migrated_engine, stuck).status == "retry_wait"
        submission = start_submission(migrated_engine, stuck)
        assert submission is not None
        assert submission.number == 2
        assert [a.status for a in attempts(migrated_engine, stuck)] == ["abandoned", "submitting"]
