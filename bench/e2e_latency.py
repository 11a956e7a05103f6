"""From the sandbox's delivery log and the job records to latencies: pure functions.

The clock of every timestamp is the machine's wall clock: the sandbox stamps its attempts,
the receiver and the workers stamp the records, all on the same host.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from bench.errors import BenchError
from bench.percentiles import LatencySummary

READY_EVENT = "generation.ready"


@dataclass(frozen=True, slots=True)
class Post:
    """The sender's first attempt at delivering one generation's `generation.ready`."""

    generation_id: str
    started_at: datetime
    finished_at: datetime | None
    status_code: int | None


@dataclass(frozen=True, slots=True)
class Completion:
    """What the records say of one generation's job: when a worker took the event, when the
    job became ready (None: not yet)."""

    generation_id: str
    event_started_at: datetime | None
    ready_at: datetime | None


@dataclass
class Stages:
    """Seconds per generation, from the webhook POST on."""

    total: list[float] = field(default_factory=list)  # POST → job ready, audio on disk
    acknowledged: list[float] = field(default_factory=list)  # POST → sender has the 2xx
    to_worker: list[float] = field(default_factory=list)  # POST → a worker claims the event
    in_worker: list[float] = field(default_factory=list)  # claimed → job ready
    # sender has the 2xx → a worker claims the event: the queue hop beyond the acknowledgement
    # (negative when a worker claims it before the 2xx reaches the sender)
    after_ack: list[float] = field(default_factory=list)
    not_ready: int = 0  # jobs whose generation was posted but that never became ready
    unposted: int = 0  # jobs whose webhook the log does not show


def parse_timestamp(text: str) -> datetime:
    """`2025-01-01T00:00:00.123Z` (the sandbox's format) as an aware UTC datetime."""
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def first_posts(deliveries: Iterable[Mapping[str, Any]]) -> dict[str, Post]:
    """Per generation, the earliest first attempt of its `generation.ready` deliveries
    (an injected duplicate is a second delivery of the same event, not a new one)."""
    posts: dict[str, Post] = {}
    for delivery in deliveries:
        resource_id = delivery.get("resourceId")
        attempts = delivery.get("attempts") or []
        if delivery.get("event") != READY_EVENT or not resource_id or not attempts:
            continue
        first = min(attempts, key=lambda attempt: int(attempt["number"]))
        finished = first.get("finishedAt")
        post = Post(
            generation_id=str(resource_id),
            started_at=parse_timestamp(str(first["startedAt"])),
            finished_at=parse_timestamp(str(finished)) if finished else None,
            status_code=first.get("statusCode"),
        )
        known = posts.get(post.generation_id)
        if known is None or post.started_at < known.started_at:
            posts[post.generation_id] = post
    return posts


def stages(posts: Mapping[str, Post], completions: Iterable[Completion]) -> Stages:
    """Latencies of each completed job whose webhook was posted, split by stage."""
    found = Stages()
    for completion in completions:
        post = posts.get(completion.generation_id)
        if post is None:
            found.unposted += 1
            continue
        if completion.ready_at is None:
            found.not_ready += 1
            continue
        found.total.append(_seconds(post.started_at, completion.ready_at))
        if post.finished_at is not None:
            found.acknowledged.append(_seconds(post.started_at, post.finished_at))
        if completion.event_started_at is not None:
            found.to_worker.append(_seconds(post.started_at, completion.event_started_at))
            found.in_worker.append(_seconds(completion.event_started_at, completion.ready_at))
            if post.finished_at is not None:
                found.after_ack.append(_seconds(post.finished_at, completion.event_started_at))
    return found


def arrival_rate(moments: Sequence[datetime]) -> float:
    """Events per second between the first and the last moment."""
    if len(moments) < 2:
        raise BenchError("fewer than two webhooks: no arrival rate")
    ordered = sorted(moments)
    span = _seconds(ordered[0], ordered[-1])
    return (len(ordered) - 1) / span if span > 0 else float("inf")


def busiest_second(moments: Sequence[datetime]) -> int:
    """The most moments in any one-second span."""
    ordered = sorted(moments)
    most = 0
    start = 0
    for end, moment in enumerate(ordered):
        while _seconds(ordered[start], moment) >= 1.0:
            start += 1
        most = max(most, end - start + 1)
    return most


def goal_ratio(summary: LatencySummary, p50_goal: float, p99_goal: float) -> float:
    """The smaller of goal ÷ measured for p50 and for p99: 1 or more means both goals met."""
    return min(_ratio(p50_goal, summary.p50), _ratio(p99_goal, summary.p99))


def _ratio(goal: float, measured: float) -> float:
    return goal / measured if measured > 0 else float("inf")


def _seconds(start: datetime, end: datetime) -> float:
    return (end - start).total_seconds()
