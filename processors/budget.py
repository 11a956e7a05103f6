"""The API budget: one sliding-window limiter in Redis, shared by every process.

The upstream allows N requests per window per workspace. Every call voicehook makes —
submissions, retries, fresh download URLs, reconciliation polls — takes a slot here first.
The window is kept a little longer than the upstream's (`margin`), because a slot is taken
just before the request leaves and the upstream counts it when it arrives. Time is Redis's
own clock, so processes on different machines agree. Low-priority callers (reconciliation)
only get a slot while a reserve is left for everyone else. A 429 from the upstream blocks
every process until its `retryAfter` has passed.
"""

from __future__ import annotations

import math
import time
import uuid
from dataclasses import dataclass
from enum import IntEnum

import redis

# KEYS: [slots zset, blocked-until key]; ARGV: [window_ms, limit, reserve, member]
# Returns {0, now} when a slot was taken, else {milliseconds to wait, now}.
_TAKE_SLOT = """
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) * 1000 + math.floor(tonumber(now_parts[2]) / 1000)
local window = tonumber(ARGV[1])
local allowed = tonumber(ARGV[2]) - tonumber(ARGV[3])
local blocked = tonumber(redis.call('GET', KEYS[2]) or '0')
if blocked > now then
  return {blocked - now, now}
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local count = redis.call('ZCARD', KEYS[1])
if count < allowed then
  redis.call('ZADD', KEYS[1], now, ARGV[4])
  redis.call('PEXPIRE', KEYS[1], window)
  return {0, now}
end
local index = count - allowed
local entry = redis.call('ZRANGE', KEYS[1], index, index, 'WITHSCORES')
return {math.max(1, tonumber(entry[2]) + window - now + 1), now}
"""

# KEYS: [blocked-until key]; ARGV: [block_ms]. Extends, never shortens, the block.
_BLOCK = """
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) * 1000 + math.floor(tonumber(now_parts[2]) / 1000)
local until_ms = now + tonumber(ARGV[1])
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if until_ms > current then
  redis.call('SET', KEYS[1], until_ms, 'PX', tonumber(ARGV[1]))
end
return until_ms
"""


class Priority(IntEnum):
    NORMAL = 0  # submissions, retries, fresh download URLs
    LOW = 1  # reconciliation polls: only while a reserve is left


@dataclass(frozen=True)
class BudgetPolicy:
    limit: int
    window_seconds: float
    margin_seconds: float = 1.0
    low_priority_reserve: float = 0.1  # share of the limit kept free of low-priority calls

    @property
    def window_ms(self) -> int:
        return math.ceil((self.window_seconds + self.margin_seconds) * 1000)

    def reserve(self, priority: Priority) -> int:
        if priority is Priority.LOW:
            return min(self.limit - 1, max(1, math.ceil(self.limit * self.low_priority_reserve)))
        return 0


@dataclass(frozen=True)
class SlotAnswer:
    wait_seconds: float  # 0.0: the slot is yours
    redis_time_ms: int


class ApiBudget:
    """Slots of the upstream's rate limit for one workspace, shared through Redis."""

    def __init__(self, client: redis.Redis, workspace: str, policy: BudgetPolicy) -> None:
        self._client = client
        self._slots_key = f"voicehook:budget:{workspace}:slots"
        self._blocked_key = f"voicehook:budget:{workspace}:blocked"
        self._policy = policy
        self._take = client.register_script(_TAKE_SLOT)
        self._block = client.register_script(_BLOCK)

    @property
    def policy(self) -> BudgetPolicy:
        return self._policy

    def try_acquire(self, priority: Priority = Priority.NORMAL) -> float:
        """Take a slot and return 0.0, or take none and return the seconds to wait."""
        return self.take_slot(priority).wait_seconds

    def take_slot(self, priority: Priority = Priority.NORMAL) -> SlotAnswer:
        """Like try_acquire, also saying when (in Redis's time) the answer was given."""
        policy = self._policy
        wait_ms, now_ms = self._take(
            keys=[self._slots_key, self._blocked_key],
            args=[policy.window_ms, policy.limit, policy.reserve(priority), uuid.uuid4().hex],
        )
        return SlotAnswer(int(wait_ms) / 1000.0, int(now_ms))

    def acquire(self, priority: Priority = Priority.NORMAL, max_wait_seconds: float = 0.0) -> float:
        """Wait (up to `max_wait_seconds`) for a slot; 0.0 when taken, else the wait still due."""
        deadline = time.monotonic() + max_wait_seconds
        while True:
            wait = self.try_acquire(priority)
            if wait == 0.0:
                return 0.0
            remaining = deadline - time.monotonic()
            if wait > remaining:
                return wait
            time.sleep(wait)

    def block_for(self, seconds: float) -> None:
        """After a 429: no process spends a slot for `seconds`."""
        self._block(keys=[self._blocked_key], args=[max(1, math.ceil(seconds * 1000))])
