"""A customer's usage (audio seconds, credits spent, jobs ready and failed), counted in shards.

A job that becomes ready or fails counts into one of `SHARDS` rows of `customer_usage`, the
one its id names, never into the customer's own row. With one row per customer every
completion of a busy customer's jobs waited for the one before it to commit (PostgreSQL
holds the row's lock until the commit's WAL flush): 19% of the drain's database time, with
eight threads on one customer. A customer's usage is the sum of its rows, read with the
customer (`customer_query`, at most `SHARDS` rows by the primary key).
"""

from __future__ import annotations

import zlib
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, Insert, RowMapping, Select, func, literal, select
from sqlalchemy import update as update_statement
from sqlalchemy.dialects import postgresql, sqlite

from records.jobs import CUSTOMER_USAGE, CUSTOMERS, Customer

SHARDS = 16
# What a shard counts, and what a customer without any counted has.
COUNTERS: dict[str, float | int] = {
    "audio_seconds": 0.0,
    "credits_spent": 0,
    "jobs_ready": 0,
    "jobs_failed": 0,
}


def shard_of(job_id: str) -> int:
    """The shard a job counts into (always the same one for a job)."""
    return zlib.crc32(job_id.encode()) % SHARDS


def counting(
    dialect: str,
    customer_id: Any,
    shard: Any,
    now: Any,
    counts: dict[str, Any],
    *,
    when: ColumnElement[bool] | None = None,
) -> Insert:
    """Add `counts` (by counter name) to a shard of the customer's usage (a job's:
    `shard_of`), as one insert-or-add statement; `when`: only if this holds (for a
    statement that is part of another, on PostgreSQL). Each value may be a bound parameter
    (a statement built once)."""
    values: dict[str, Any] = (
        {"customer_id": customer_id, "shard": shard}
        | {name: counts.get(name, zero) for name, zero in COUNTERS.items()}
        | {"updated_at": now}
    )
    make = postgresql.insert if dialect == "postgresql" else sqlite.insert
    if when is None:
        statement = make(CUSTOMER_USAGE).values(**values)
    else:
        literals = [
            value
            if isinstance(value, ColumnElement)
            else literal(value, CUSTOMER_USAGE.c[name].type)
            for name, value in values.items()
        ]
        statement = make(CUSTOMER_USAGE).from_select(list(values), select(*literals).where(when))
    added = {name: CUSTOMER_USAGE.c[name] + statement.excluded[name] for name in COUNTERS}
    return statement.on_conflict_do_update(
        index_elements=[CUSTOMER_USAGE.c.customer_id, CUSTOMER_USAGE.c.shard],
        set_=added | {"updated_at": statement.excluded.updated_at},
    )


def count_ready(
    conn: Connection,
    customer_id: str | None,
    job_id: str,
    *,
    seconds: float,
    credits: int,
    now: datetime,
) -> None:
    """A job of the customer became ready: its audio seconds and credits are counted."""
    if customer_id is None:
        return
    counts = {"audio_seconds": seconds, "credits_spent": credits, "jobs_ready": 1}
    conn.execute(counting(conn.dialect.name, customer_id, shard_of(job_id), now, counts))


def count_failed(conn: Connection, customer_id: str | None, job_id: str, now: datetime) -> None:
    """A job of the customer failed for good."""
    if customer_id is None:
        return
    shard = shard_of(job_id)
    conn.execute(counting(conn.dialect.name, customer_id, shard, now, {"jobs_failed": 1}))


def uncount_failed_job(
    conn: Connection, customer_id: str | None, job_id: str, now: datetime
) -> None:
    """A failed job of the customer is being retried: it no longer counts as failed.

    Taken from the job's own shard, where its failure was counted; from another with
    failed jobs when that one has none (counts from before the shards are all in shard 0),
    so the sum goes down by one unless it is 0."""
    if customer_id is None:
        return
    mine = CUSTOMER_USAGE.c.shard == shard_of(job_id)
    chosen = (
        select(CUSTOMER_USAGE.c.shard)
        .where(CUSTOMER_USAGE.c.customer_id == customer_id, CUSTOMER_USAGE.c.jobs_failed > 0)
        .order_by(mine.desc(), CUSTOMER_USAGE.c.shard)
        .limit(1)
        .scalar_subquery()
    )
    conn.execute(
        update_statement(CUSTOMER_USAGE)
        .where(
            CUSTOMER_USAGE.c.customer_id == customer_id,
            CUSTOMER_USAGE.c.shard == chosen,
            CUSTOMER_USAGE.c.jobs_failed > 0,
        )
        .values(jobs_failed=CUSTOMER_USAGE.c.jobs_failed - 1, updated_at=now)
    )


def customer_query() -> Select[Any]:
    """Customers with their usage summed (read each row with `customer_of`)."""
    mine = CUSTOMER_USAGE.c.customer_id == CUSTOMERS.c.id
    sums = [
        select(func.coalesce(func.sum(CUSTOMER_USAGE.c[name]), zero))
        .where(mine)
        .scalar_subquery()
        .label(name)
        for name, zero in COUNTERS.items()
    ]
    counted_at = select(func.max(CUSTOMER_USAGE.c.updated_at)).where(mine).scalar_subquery()
    return select(*CUSTOMERS.c, *sums, counted_at.label("usage_updated_at"))


def customer_of(row: RowMapping) -> Customer:
    """A row of `customer_query` as a Customer, updated when its row or its usage last was."""
    values = dict(row)
    counted_at = values.pop("usage_updated_at")
    if counted_at is not None and counted_at > values["updated_at"]:
        values["updated_at"] = counted_at
    return Customer(**values)


def customer_row(customer: Customer) -> dict[str, Any]:
    """What inserting the customer writes to its own row (its usage is counted apart)."""
    return {column.name: getattr(customer, column.name) for column in CUSTOMERS.c}
