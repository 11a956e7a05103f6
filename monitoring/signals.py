"""One snapshot of the deployment's health, read from the database and Redis.

`voicehook status`, `voicehook doctor`, the queue gauges of every `/metrics` and the
sweeper's alerts all read this one snapshot, so they never disagree about what is wrong.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import redis
from sqlalchemy import Engine

from config.dead_letters import dead_letter_key
from config.queues import EVENTS_QUEUE, JOBS_QUEUE, NOTIFICATIONS_QUEUE
from config.settings import Settings
from processors.budget import ApiBudget, BudgetPolicy, workspace_name
from processors.budget_usage import BudgetUsage, read_usage
from records.health_reads import StoredCounts, read_counts
from records.types import utcnow

QUEUES = (EVENTS_QUEUE, JOBS_QUEUE, NOTIFICATIONS_QUEUE)
BROKER_NAMESPACE = "dramatiq"


@dataclass(frozen=True)
class QueueDepth:
    waiting: int  # on the queue's list, not yet taken by a worker
    delayed: int  # retries and scheduled messages (`.DQ`)
    dead: int  # dead-lettered (`.XQ`): kept by Dramatiq for 7 days, never retried


@dataclass(frozen=True)
class Signals:
    """The database's counts, each queue's depth and the API budget, when read."""

    read_at: datetime
    counts: StoredCounts
    queues: dict[str, QueueDepth] = field(default_factory=dict)
    workspace: str | None = None
    budget: BudgetUsage | None = None

    @property
    def oldest_unprocessed_age_seconds(self) -> float:
        """0 when nothing waits for a worker."""
        oldest = self.counts.oldest_unprocessed_at
        return 0.0 if oldest is None else max(0.0, (self.read_at - oldest).total_seconds())

    @property
    def dead_letters(self) -> int:
        return sum(depth.dead for depth in self.queues.values())

    @property
    def backlog(self) -> int:
        """Events still owed an outcome by a worker."""
        events = self.counts.events_by_status
        return sum(events.get(s, 0) for s in ("received", "queued", "processing"))

    def document(self) -> dict[str, Any]:
        """The snapshot as `voicehook status --json` prints it."""
        return {
            "readAt": self.read_at.isoformat(),
            "events": self.counts.events_by_status,
            "jobs": self.counts.jobs_by_status,
            "oldestUnprocessedAgeSeconds": round(self.oldest_unprocessed_age_seconds, 3),
            "stuckEvents": self.counts.stuck_events,
            "flaggedEndpoints": self.counts.flagged_endpoints,
            "queues": {
                name: {"waiting": d.waiting, "delayed": d.delayed, "dead": d.dead}
                for name, d in self.queues.items()
            },
            "deadLetters": self.dead_letters,
            "budget": None
            if self.budget is None
            else {
                "workspace": self.workspace,
                "used": self.budget.used,
                "available": self.budget.available,
                "limit": self.budget.limit,
                "blockedSeconds": round(self.budget.blocked_seconds, 3),
            },
        }


def read_queue_depths(client: redis.Redis) -> dict[str, QueueDepth]:
    """Each queue's waiting, delayed and dead-lettered messages, in one round trip."""
    with client.pipeline(transaction=False) as pipe:
        for queue in QUEUES:
            key = f"{BROKER_NAMESPACE}:{queue}"
            pipe.llen(key)
            pipe.llen(f"{key}.DQ")
            pipe.zcard(dead_letter_key(queue))
        found = pipe.execute()
    return {
        queue: QueueDepth(int(found[i * 3]), int(found[i * 3 + 1]), int(found[i * 3 + 2]))
        for i, queue in enumerate(QUEUES)
    }


def budget_of(settings: Settings, client: redis.Redis) -> tuple[str, ApiBudget] | None:
    """The workspace's budget as the workers keep it, or None without an API key."""
    key = settings.vpai_api_key.get_secret_value().strip() if settings.vpai_api_key else ""
    if not key:
        return None
    workspace = workspace_name(settings, key)
    policy = BudgetPolicy(
        settings.vpai_rate_limit,
        settings.vpai_rate_window_seconds,
        settings.vpai_rate_margin_seconds,
    )
    return workspace, ApiBudget(client, workspace, policy)


def read_signals(settings: Settings, engine: Engine, client: redis.Redis | None) -> Signals:
    """Everything, now. Raises SQLAlchemyError or RedisError when a store does not answer."""
    counts = read_counts(
        engine,
        lease_seconds=settings.event_lease_seconds,
        stuck_after_seconds=settings.sweeper_stuck_after_seconds,
    )
    if client is None:
        return Signals(utcnow(), counts)
    budget = budget_of(settings, client)
    return Signals(
        read_at=utcnow(),
        counts=counts,
        queues=read_queue_depths(client),
        workspace=None if budget is None else budget[0],
        budget=None if budget is None else read_usage(client, budget[0], budget[1].policy),
    )
