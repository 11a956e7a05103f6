"""Everything the overview shows, gathered from the database, Redis and this process."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import redis
from sqlalchemy import Engine

from admin.charts import Bar, stacked_bars
from config.queue_depths import QueueDepth, queue_depths
from processors.budget import BudgetPolicy
from processors.budget_usage import BudgetUsage, read_usage
from receiver.metrics import DeliveryOutcome
from receiver.outcome_tally import MinuteTally
from records.dashboard_counts import Overview, overview
from records.events import EventStatus
from records.jobs import JobStatus
from sweeper.last_round import LastRound, read_last_round

REFUSALS = (
    DeliveryOutcome.INVALID_SIGNATURE,
    DeliveryOutcome.INVALID_PAYLOAD,
    DeliveryOutcome.TOO_LARGE,
    DeliveryOutcome.UNAVAILABLE,
)


@dataclass(frozen=True)
class BudgetSource:
    """Which budget to read: the workspace's keys and its policy (None: no API key set)."""

    workspace: str | None
    policy: BudgetPolicy


@dataclass(frozen=True, slots=True)
class StatusCount:
    status: str
    count: int
    last_hour_only: bool  # the status nearly every row ends in: counted over the last hour


@dataclass(frozen=True)
class OverviewPage:
    counts: Overview
    events_by_status: list[StatusCount]
    jobs_by_status: list[StatusCount]
    delivery_bars: list[Bar]
    refusal_bars: list[Bar]
    refusal_totals: dict[str, int]
    budget: BudgetUsage | None
    budget_bars: list[Bar]
    queues: list[QueueDepth] | None
    sweeper: LastRound | None
    redis_error: str | None
    now: datetime


def gather(
    engine: Engine, client: redis.Redis, budget: BudgetSource, refusals: MinuteTally
) -> OverviewPage:
    now = datetime.now(UTC)
    counts = overview(engine, now)
    minutes = [m.minute.strftime("%H:%M") for m in counts.deliveries]
    refused = refusals.last_hour(now.timestamp())
    usage: BudgetUsage | None = None
    queues: list[QueueDepth] | None = None
    sweeper: LastRound | None = None
    redis_error = None
    try:
        if budget.workspace is not None:
            usage = read_usage(client, budget.workspace, budget.policy)
        queues = queue_depths(client)
        sweeper = read_last_round(client)
    except redis.RedisError as exc:
        redis_error = str(exc)
    return OverviewPage(
        counts=counts,
        events_by_status=_in_order(
            counts.events_by_status,
            [s.value for s in EventStatus],
            (EventStatus.PROCESSED.value, counts.events_processed_last_hour),
        ),
        jobs_by_status=_in_order(
            counts.jobs_by_status,
            [s.value for s in JobStatus],
            (JobStatus.READY.value, counts.jobs_ready_last_hour),
        ),
        delivery_bars=stacked_bars([(m.accepted, m.duplicate) for m in counts.deliveries], minutes),
        refusal_bars=stacked_bars(
            [tuple(counts_.get(o.value, 0) for o in REFUSALS) for _, counts_ in refused], minutes
        ),
        refusal_totals={
            o.value: sum(counts_.get(o.value, 0) for _, counts_ in refused) for o in REFUSALS
        },
        budget=usage,
        budget_bars=stacked_bars([(n,) for n in usage.per_minute], minutes) if usage else [],
        queues=queues,
        sweeper=sweeper,
        redis_error=redis_error,
        now=now,
    )


def _in_order(
    counts: dict[str, int], known: list[str], last_hour: tuple[str, int]
) -> list[StatusCount]:
    """Every status in its lifecycle's order; the bulk one counted over the last hour."""
    recent, recent_count = last_hour
    return [
        StatusCount(name, recent_count, True)
        if name == recent
        else StatusCount(name, counts.get(name, 0), False)
        for name in known
    ]
