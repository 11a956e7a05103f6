"""A customer's usage counted in shards: summed on read, moved there by migration 0011, and
a retried failed job uncounted once even when its failure was counted elsewhere."""

from __future__ import annotations

from sqlalchemy import Engine, insert, select, text

from config.database import make_engine, transaction
from records.customer_repo import customer_by_ref, upsert_customer
from records.customer_usage import (
    SHARDS,
    count_failed,
    count_ready,
    shard_of,
    uncount_failed_job,
)
from records.jobs import CUSTOMER_USAGE
from records.migrate import downgrade, upgrade
from records.types import utcnow
from tests.conftest import make_settings


def job_ids_in_distinct_shards(count: int) -> list[str]:
    """`count` job ids, each counting into a shard of its own."""
    found: dict[int, str] = {}
    n = 0
    while len(found) < count:
        found.setdefault(shard_of(f"job-{n}"), f"job-{n}")
        n += 1
    return list(found.values())


class TestCustomerUsage:
    def test_counts_in_many_shards_read_as_one_sum(self, migrated_engine: Engine) -> None:
        """Jobs counting into different shards add up to the customer's usage, each counted
        into its own shard only."""
        customer, _ = upsert_customer(migrated_engine, "acme", "Acme")
        jobs = job_ids_in_distinct_shards(3)
        now = utcnow()
        with transaction(migrated_engine) as conn:
            for job_id in jobs:
                count_ready(conn, customer.id, job_id, seconds=1.5, credits=2, now=now)
            count_ready(conn, customer.id, jobs[0], seconds=1.0, credits=1, now=now)
            count_failed(conn, customer.id, jobs[1], now)
        usage = customer_by_ref(migrated_engine, "acme")
        assert usage is not None
        assert (usage.audio_seconds, usage.credits_spent) == (5.5, 7)
        assert (usage.jobs_ready, usage.jobs_failed) == (4, 1)
        with migrated_engine.connect() as conn:
            shards = set(conn.execute(select(CUSTOMER_USAGE.c.shard)).scalars())
        assert shards == {shard_of(job_id) for job_id in jobs}
        assert all(0 <= shard < SHARDS for shard in shards)

    def test_a_retried_job_is_uncounted_once_from_wherever_failures_are(
        self, migrated_engine: Engine
    ) -> None:
        """A failed job's uncount comes from its own shard; when its shard has none (counted
        before the shards, in shard 0) from another; never below zero."""
        customer, _ = upsert_customer(migrated_engine, "acme", "Acme")
        counted, elsewhere = job_ids_in_distinct_shards(2)
        now = utcnow()
        with transaction(migrated_engine) as conn:
            count_failed(conn, customer.id, counted, now)
            count_failed(conn, customer.id, counted, now)
        for job_id, left in ((elsewhere, 1), (counted, 0), (counted, 0)):
            with transaction(migrated_engine) as conn:
                uncount_failed_job(conn, customer.id, job_id, now)
            usage = customer_by_ref(migrated_engine, "acme")
            assert usage is not None
            assert usage.jobs_failed == left


class TestMigration:
    def test_counts_move_to_shard_zero_and_back(self, database_url: str) -> None:
        """Upgrading moves each customer's counts to its shard 0 and drops the columns;
        downgrading sums the shards back into the customer's row."""
        engine = make_engine(make_settings(database_url))
        upgrade(engine, "0010")
        now = utcnow()
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO customers (id, external_ref, name, audio_seconds,"
                    " credits_spent, jobs_ready, jobs_failed, created_at, updated_at)"
                    " VALUES ('c1', 'acme', 'Acme', 4.5, 9, 3, 1, :now, :now)"
                ),
                {"now": now},
            )
        upgrade(engine)
        usage = customer_by_ref(engine, "acme")
        assert usage is not None
        assert (usage.audio_seconds, usage.credits_spent, usage.jobs_ready) == (4.5, 9, 3)
        assert usage.jobs_failed == 1
        with engine.begin() as conn:
            conn.execute(
                insert(CUSTOMER_USAGE).values(
                    customer_id="c1",
                    shard=5,
                    audio_seconds=1.0,
                    credits_spent=1,
                    jobs_ready=1,
                    jobs_failed=0,
                    updated_at=now,
                )
            )
        downgrade(engine, "0010")
        with engine.connect() as conn:
            row = conn.execute(
                text("SELECT audio_seconds, credits_spent, jobs_ready, jobs_failed FROM customers")
            ).one()
        assert tuple(row) == (5.5, 10, 4, 1)
        engine.dispose()
