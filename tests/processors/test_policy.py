"""The pure rules of job processing."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from processors.policy import (
    FailureAction,
    ReadyAction,
    on_failed,
    on_ready,
    retry_delay,
)

BACKOFF = [30.0, 120.0, 600.0]
NOW = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)


def failed(**overrides: object) -> FailureAction:
    values: dict[str, object] = {
        "tracked": True,
        "job_status": "submitted",
        "attempt_status": "submitted",
        "is_latest_attempt": True,
        "attempts_made": 1,
        "max_attempts": 3,
        "backoff": BACKOFF,
    }
    values.update(overrides)
    return on_failed(**values).action  # type: ignore[arg-type]


class TestRetryDelay:
    @pytest.mark.parametrize(("made", "delay"), [(1, 30.0), (2, 120.0), (3, 600.0), (9, 600.0)])
    def test_follows_the_schedule_then_stays_at_its_end(self, made: int, delay: float) -> None:
        """30 s, 2 min, 10 min, and 10 min for anything beyond."""
        assert retry_delay(made, BACKOFF) == delay

    def test_empty_schedule_means_now(self) -> None:
        """With no schedule configured, retry at once."""
        assert retry_delay(1, []) == 0.0


class TestOnFailed:
    def test_first_failure_retries_after_the_first_delay(self) -> None:
        """A tracked job's latest attempt failing is retried after 30 s."""
        decision = on_failed(
            tracked=True,
            job_status="submitted",
            attempt_status="submitted",
            is_latest_attempt=True,
            attempts_made=1,
            max_attempts=3,
            backoff=BACKOFF,
        )
        assert decision.action is FailureAction.RETRY
        assert decision.delay_seconds == 30.0

    def test_gives_up_at_the_attempt_limit(self) -> None:
        """The third failure of three attempts fails the job."""
        assert failed(attempts_made=3) is FailureAction.GIVE_UP

    @pytest.mark.parametrize("job_status", ["ready", "failed", "blocked"])
    def test_never_moves_a_settled_job(self, job_status: str) -> None:
        """A late failure for a ready, failed or blocked job changes nothing."""
        assert failed(job_status=job_status) is FailureAction.RECORD_ONLY

    def test_superseded_attempt_is_only_recorded(self) -> None:
        """A failure of an older attempt (a retry is already out) is only recorded."""
        assert failed(is_latest_attempt=False) is FailureAction.RECORD_ONLY
        assert failed(attempt_status="superseded") is FailureAction.RECORD_ONLY

    def test_a_repeated_failure_is_only_recorded(self) -> None:
        """Processing the same failure twice schedules one retry, not two."""
        assert failed(attempt_status="failed") is FailureAction.RECORD_ONLY

    def test_untracked_generation_is_not_retried(self) -> None:
        """A generation this service did not submit is recorded, with the reason."""
        decision = on_failed(
            tracked=False,
            job_status="failed",
            attempt_status="submitted",
            is_latest_attempt=True,
            attempts_made=1,
            max_attempts=3,
            backoff=BACKOFF,
        )
        assert decision.action is FailureAction.RECORD_ONLY
        assert "not submitted by this service" in decision.reason


class TestOnReady:
    def test_fetches_unless_ready(self) -> None:
        """Any ready generation completes a job not yet ready; a ready job is left alone."""
        for status in ("pending", "submitted", "retry_wait", "failed", "blocked"):
            assert on_ready(status) is ReadyAction.FETCH
        assert on_ready("ready") is ReadyAction.RECORD_ONLY
