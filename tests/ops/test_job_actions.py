"""Job actions (resume the blocked, retry the failed) on both dialects, with a real Redis."""

from __future__ import annotations

import threading
from collections.abc import Sequence

import pytest
from sqlalchemy import Engine, select, update

from config.broker import EnqueueIds, build_broker, enqueue_submissions
from records.customer_usage import customer_query
from records.jobs import ATTEMPTS, JOBS, JobStatus
from records.submission_repo import start_submission, submission_refused
from tests.conftest import make_settings
from tests.processors.flow import new_job
from tests.receiver.test_internal_api import submissions_queued
from voicehook.ops.job_actions import Outcome, resume_jobs, retry_jobs


@pytest.fixture
def enqueue(redis_url: str) -> EnqueueIds:
    broker = build_broker(make_settings("sqlite://", redis_url))

    def enqueue_ids(job_ids: Sequence[str]) -> None:
        enqueue_submissions(broker, job_ids)

    return enqueue_ids


def failed_job(engine: Engine) -> str:
    """A job whose only attempt the API refused: failed for good, counted on its customer."""
    job_id = new_job(engine)
    submission = start_submission(engine, job_id)
    assert submission is not None
    submission_refused(engine, submission, JobStatus.FAILED, "403 voice not allowed")
    return job_id


def job_row(engine: Engine, job_id: str) -> dict[str, object]:
    with engine.connect() as conn:
        return dict(conn.execute(select(JOBS).where(JOBS.c.id == job_id)).mappings().one())


def jobs_failed(engine: Engine) -> int:
    with engine.connect() as conn:
        [customer] = conn.execute(customer_query()).mappings().all()
        return int(customer["jobs_failed"])


class TestRetry:
    def test_failed_job_gets_one_new_attempt(
        self, migrated_engine: Engine, redis_url: str, enqueue: EnqueueIds
    ) -> None:
        """A failed job goes back to pending with room for exactly one more attempt,
        enqueued for submission, and no longer counts among its customer's failures."""
        job_id = failed_job(migrated_engine)
        assert jobs_failed(migrated_engine) == 1

        result = retry_jobs(migrated_engine, [job_id], enqueue)

        assert result.done == [job_id]
        assert result.enqueued
        row = job_row(migrated_engine, job_id)
        assert row["status"] == JobStatus.PENDING
        assert row["last_error"] is None
        assert row["max_attempts"] == int(str(row["attempts_made"])) + 1
        assert submissions_queued(redis_url) == [job_id]
        assert jobs_failed(migrated_engine) == 0
        assert start_submission(migrated_engine, job_id) is not None

    def test_jobs_not_failed_are_refused_with_a_reason(
        self, migrated_engine: Engine, redis_url: str, enqueue: EnqueueIds
    ) -> None:
        """A pending job and an unknown id are refused, each saying why; nothing enqueued."""
        pending = new_job(migrated_engine)

        result = retry_jobs(migrated_engine, [pending, "no-such-job"], enqueue)

        outcomes = {o.job_id: o for o in result.outcomes}
        assert outcomes[pending].outcome is Outcome.REFUSED
        assert "already pending" in str(outcomes[pending].reason)
        assert outcomes["no-such-job"].outcome is Outcome.NOT_FOUND
        assert result.done == []
        assert submissions_queued(redis_url) == []

    def test_concurrent_retries_make_one_new_attempt(
        self, migrated_engine: Engine, redis_url: str, enqueue: EnqueueIds
    ) -> None:
        """Eight threads retry one failed job at once: one moves it, the rest are refused,
        and the workers' submission makes a single new attempt."""
        job_id = failed_job(migrated_engine)
        barrier = threading.Barrier(8)
        done: list[list[str]] = []

        def retry() -> None:
            barrier.wait()
            done.append(retry_jobs(migrated_engine, [job_id], enqueue).done)

        threads = [threading.Thread(target=retry) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        assert sorted(done, key=len) == [[]] * 7 + [[job_id]]
        assert submissions_queued(redis_url) == [job_id]
        assert jobs_failed(migrated_engine) == 0
        assert start_submission(migrated_engine, job_id) is not None
        assert start_submission(migrated_engine, job_id) is None
        with migrated_engine.connect() as conn:
            attempts = conn.execute(select(ATTEMPTS).where(ATTEMPTS.c.job_id == job_id)).all()
        assert len(attempts) == 1

    def test_broker_down_keeps_the_retry_for_the_sweeper(self, migrated_engine: Engine) -> None:
        """With Redis unreachable the job is still retried (pending); the result says it was
        not enqueued, so the sweeper's recovery submits it."""
        broker = build_broker(make_settings("sqlite://", "redis://127.0.0.1:21999/0"))
        job_id = failed_job(migrated_engine)

        result = retry_jobs(migrated_engine, [job_id], lambda ids: enqueue_submissions(broker, ids))

        assert result.done == [job_id]
        assert not result.enqueued
        assert job_row(migrated_engine, job_id)["status"] == JobStatus.PENDING


class TestResume:
    def test_every_blocked_job_resumed_when_none_named(
        self, migrated_engine: Engine, redis_url: str, enqueue: EnqueueIds
    ) -> None:
        """Without ids every blocked job is resumed and enqueued; other jobs are untouched."""
        blocked, other = new_job(migrated_engine), new_job(migrated_engine)
        with migrated_engine.begin() as conn:
            conn.execute(update(JOBS).where(JOBS.c.id == blocked).values(status="blocked"))

        result = resume_jobs(migrated_engine, [], enqueue)

        assert result.done == [blocked]
        assert submissions_queued(redis_url) == [blocked]
        assert job_row(migrated_engine, other)["status"] == JobStatus.PENDING
        refused = resume_jobs(migrated_engine, [other], enqueue)
        assert refused.outcomes[0].outcome is Outcome.REFUSED
        assert refused.document()["jobs"][0]["id"] == other
