"""Jobs recovered when their message was lost or their worker died."""

from __future__ import annotations

from datetime import timedelta
from functools import partial

import orjson
import redis
from sqlalchemy import Engine, update

from config.broker import build_broker, enqueue_submissions
from records.job_repo import recover_jobs
from records.jobs import JOBS
from records.types import utcnow
from tests.conftest import make_settings
from tests.processors.flow import job, new_job


class TestRecoverJobs:
    def test_forgotten_and_abandoned_jobs_are_enqueued_again(
        self, migrated_engine: Engine, database_url: str, redis_url: str
    ) -> None:
        """A pending job nobody enqueued, and one a dead worker held, get submit messages."""
        forgotten = new_job(migrated_engine)
        abandoned = new_job(migrated_engine)
        fresh = new_job(migrated_engine)
        old = utcnow() - timedelta(hours=1)
        with migrated_engine.begin() as conn:
            conn.execute(update(JOBS).where(JOBS.c.id == forgotten).values(updated_at=old))
            conn.execute(
                update(JOBS)
                .where(JOBS.c.id == abandoned)
                .values(status="submitting", updated_at=old)
            )
        broker = build_broker(make_settings(database_url, redis_url))
        found = recover_jobs(
            migrated_engine,
            partial(enqueue_submissions, broker),
            forgotten_after_seconds=60,
            submitting_lease_seconds=600,
        )
        assert found == 2
        queued = redis_ids(redis_url)
        assert sorted(queued) == sorted([forgotten, abandoned])
        assert fresh not in queued
        assert job(migrated_engine, abandoned).status == "retry_wait"


def redis_ids(redis_url: str) -> list[str]:
    client = redis.Redis.from_url(redis_url)
    return [str(orjson.loads(raw)["args"][0]) for raw in client.hvals("dramatiq:jobs.msgs")]
