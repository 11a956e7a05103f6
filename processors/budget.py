"""The API budget: one sliding-window limiter in Redis, shared by every process.

The upstream allows N requests per window per workspace. Every call voicehook makes —
submissions, retries, fresh download URLs, reconciliation polls — takes a slot here first.
The window is kept a little longer than the upstream's (`margin`), because a slot is taken
just before the request leaves and the upstream counts it when it arrives. Time is Redis's
own clock, so processes on different machines agree. Low-priority callers (reconciliation)
only get a slot while a reserve is left for everyone else. A 429 from the upstream blocks
every process until its `retryAfter` has passed. When Redis loses the budget's keys, the
processes that knew them assume the upstream's window was full and wait one window.
"""

from __future__ import annotations

import hashlib
import math
import time
import uuid
from dataclasses import dataclass
from enum import IntEnum

import redis

from config.settings import Settings

# KEYS: [slots zset, blocked-until key, epoch key, per-minute usage key prefix];
# ARGV: [window_ms, limit, reserve, member, epoch this process knows ('' if none), new epoch]
# Returns {0, now, epoch} when a slot was taken, else {milliseconds to wait, now, epoch}.
#
# The epoch key ("<token>:<created ms>") never expires, so its absence means Redis lost the
# budget's keys (a restart without persistence, a failover, a flush). A process that knew an
# epoch then cannot know how full the upstream's window still is, so it assumes it was full:
# nobody takes a slot until one window after the epoch was made again. A process that never
# knew one (the very first start) creates it and goes on.
_TAKE_SLOT = """
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) * 1000 + math.floor(tonumber(now_parts[2]) / 1000)
local window = tonumber(ARGV[1])
local allowed = tonumber(ARGV[2]) - tonumber(ARGV[3])
local epoch = redis.call('GET', KEYS[3])
if not epoch then
  epoch = ARGV[6] .. ':' .. now
  redis.call('SET', KEYS[3], epoch)
end
if ARGV[5] ~= '' and ARGV[5] ~= epoch then
  local created = tonumber(string.match(epoch, ':(%d+)$') or '0')
  local full_until = created + window
  local current = tonumber(redis.call('GET', KEYS[2]) or '0')
  if full_until > now and full_until > current then
    redis.call('SET', KEYS[2], full_until, 'PX', full_until - now)
  end
end
local blocked = tonumber(redis.call('GET', KEYS[2]) or '0')
if blocked > now then
  return {blocked - now, now, epoch}
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local count = redis.call('ZCARD', KEYS[1])
if count < allowed then
  redis.call('ZADD', KEYS[1], now, ARGV[4])
  redis.call('PEXPIRE', KEYS[1], window)
  -- Slots taken per minute, kept two hours: the dashboard's budget over the last hour.
  local used = KEYS[4] .. ':' .. math.floor(now / 60000)
  redis.call('INCR', used)
  redis.call('EXPIRE', used, 7200)
  return {0, now, epoch}
end
local index = count - allowed
local entry = redis.call('ZRANGE', KEYS[1], index, index, 'WITHSCORES')
return {math.max(1, tonumber(entry[2]) + window - now + 1), now, epoch}
"""

# KEYS: [blocked-until key, last-pause key]; ARGV: [block_ms]. Extends, never shortens, the
# block; the last pause ("<from ms>:<until ms>", kept a day) is what the dashboard shows.
_BLOCK = """
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) * 1000 + math.floor(tonumber(now_parts[2]) / 1000)
local until_ms = now + tonumber(ARGV[1])
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if until_ms > current then
  redis.call('SET', KEYS[1], until_ms, 'PX', tonumber(ARGV[1]))
end
redis.call('SET', KEYS[2], now .. ':' .. until_ms, 'EX', 86400)
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


def workspace_name(settings: Settings, api_key: str) -> str:
    """The budget's key: configured, or a fingerprint of the API key (never the key itself)."""
    if settings.vpai_workspace:
        return settings.vpai_workspace
    return "key-" + hashlib.sha256(api_key.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class BudgetKeys:
    """Where a workspace's budget lives in Redis."""

    slots: str
    blocked: str
    used: str  # a prefix: `<used>:<minute since the epoch>` counts the slots of that minute
    last_pause: str

    @classmethod
    def of(cls, workspace: str) -> BudgetKeys:
        base = f"voicehook:budget:{workspace}"
        return cls(f"{base}:slots", f"{base}:blocked", f"{base}:used", f"{base}:last_pause")


@dataclass(frozen=True)
class SlotAnswer:
    wait_seconds: float  # 0.0: the slot is yours
    redis_time_ms: int


class ApiBudget:
    """Slots of the upstream's rate limit for one workspace, shared through Redis."""

    def __init__(self, client: redis.Redis, workspace: str, policy: BudgetPolicy) -> None:
        self._client = client
        self._keys = BudgetKeys.of(workspace)
        self._slots_key = self._keys.slots
        self._blocked_key = self._keys.blocked
        self._epoch_key = f"voicehook:budget:{workspace}:epoch"
        self._epoch = ""  # the budget's epoch as this process last saw it
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
        member = uuid.uuid4().hex
        wait_ms, now_ms, epoch = self._take(
            keys=[self._slots_key, self._blocked_key, self._epoch_key, self._keys.used],
            args=[
                policy.window_ms,
                policy.limit,
                policy.reserve(priority),
                member,
                self._epoch,
                member,
            ],
        )
        self._epoch = epoch.decode() if isinstance(epoch, bytes) else str(epoch)
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
        self._block(
            keys=[self._blocked_key, self._keys.last_pause],
            args=[max(1, math.ceil(seconds * 1000))],
        )
