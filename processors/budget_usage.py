"""What the shared API budget is doing, read from its Redis keys: the one read of them, for
the dashboard, the monitoring signals and `voicehook status`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import redis

from processors.budget import BudgetKeys, BudgetPolicy

MINUTES = 60


@dataclass(frozen=True, slots=True)
class BudgetUsage:
    used: int  # slots taken within the current window
    limit: int
    blocked_seconds: float  # > 0 while a 429's retryAfter holds every process back
    per_minute: tuple[int, ...] = ()  # slots taken in each of the last 60 minutes, oldest first
    last_pause: tuple[datetime, datetime] | None = None  # the last 429 pause (from, until)

    @property
    def available(self) -> int:
        return max(0, self.limit - self.used)


def read_usage(client: redis.Redis, workspace: str, policy: BudgetPolicy) -> BudgetUsage:
    """The budget's state now, in Redis's own clock (as the limiter counts it)."""
    keys = BudgetKeys.of(workspace)
    seconds, micros = client.time()
    now_ms = int(seconds) * 1000 + int(micros) // 1000
    minute = now_ms // 60000
    with client.pipeline(transaction=False) as pipe:
        pipe.zcount(keys.slots, now_ms - policy.window_ms, "+inf")
        pipe.pttl(keys.blocked)
        pipe.get(keys.last_pause)
        pipe.mget([f"{keys.used}:{m}" for m in range(minute - MINUTES + 1, minute + 1)])
        in_window, blocked_ttl, last_pause, used = pipe.execute()
    return BudgetUsage(
        used=int(in_window),
        limit=policy.limit,
        blocked_seconds=max(0, int(blocked_ttl)) / 1000.0,
        per_minute=tuple(int(value or 0) for value in used),
        last_pause=_pause(last_pause),
    )


def _pause(raw: bytes | None) -> tuple[datetime, datetime] | None:
    if not raw:
        return None
    start, _, until = raw.decode().partition(":")
    try:
        return _at(int(start)), _at(int(until))
    except ValueError:
        return None


def _at(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)
