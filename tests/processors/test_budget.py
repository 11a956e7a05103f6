"""The shared API budget, on a real Redis, across threads and processes."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time

import orjson
import redis

from processors.budget import ApiBudget, BudgetPolicy, Priority
from tests.services import ROOT


def budget(url: str, limit: int = 5, window: float = 1.0, margin: float = 0.0) -> ApiBudget:
    return ApiBudget(redis.Redis.from_url(url), "ws-test", BudgetPolicy(limit, window, margin))


def max_in_any_window(stamps: list[float], window: float) -> int:
    stamps = sorted(stamps)
    best = 0
    start = 0
    for end, stamp in enumerate(stamps):
        while stamp - stamps[start] >= window:
            start += 1
        best = max(best, end - start + 1)
    return best


class TestBudgetPolicy:
    def test_margin_lengthens_the_window(self) -> None:
        """The window kept is the upstream's plus the margin."""
        assert BudgetPolicy(60, 60.0, 1.0).window_ms == 61_000

    def test_low_priority_keeps_a_reserve(self) -> None:
        """Low priority leaves 10% (at least one slot) for everyone else."""
        policy = BudgetPolicy(60, 60.0)
        assert policy.reserve(Priority.NORMAL) == 0
        assert policy.reserve(Priority.LOW) == 6
        assert BudgetPolicy(2, 1.0).reserve(Priority.LOW) == 1


class TestApiBudget:
    def test_grants_the_limit_then_says_how_long_to_wait(self, redis_url: str) -> None:
        """Five slots per second: five granted, the sixth told to wait about a second."""
        limiter = budget(redis_url)
        assert [limiter.try_acquire() for _ in range(5)] == [0.0] * 5
        wait = limiter.try_acquire()
        assert 0.5 < wait <= 1.01
        time.sleep(wait)
        assert limiter.try_acquire() == 0.0

    def test_low_priority_stops_before_the_reserve(self, redis_url: str) -> None:
        """Low priority gets slots only while the reserve stays free; normal still gets it."""
        limiter = budget(redis_url, limit=10)
        granted = sum(limiter.try_acquire(Priority.LOW) == 0.0 for _ in range(12))
        assert granted == 9
        assert limiter.try_acquire(Priority.NORMAL) == 0.0
        assert limiter.try_acquire(Priority.NORMAL) > 0

    def test_block_for_stops_everyone(self, redis_url: str) -> None:
        """After a 429 no slot is granted until the block passes."""
        limiter = budget(redis_url, limit=100)
        limiter.block_for(0.5)
        assert 0.3 < limiter.try_acquire() <= 0.5
        other = budget(redis_url, limit=100)
        assert other.try_acquire() > 0
        time.sleep(0.55)
        assert limiter.try_acquire() == 0.0

    def test_acquire_waits_up_to_its_limit(self, redis_url: str) -> None:
        """acquire() sleeps for a slot when allowed to, and reports the wait when not."""
        limiter = budget(redis_url, limit=1, window=0.3)
        assert limiter.acquire() == 0.0
        assert limiter.acquire(max_wait_seconds=0.0) > 0
        assert limiter.acquire(max_wait_seconds=1.0) == 0.0

    def test_two_processes_share_one_budget(self, redis_url: str) -> None:
        """Two processes hammering for 2.5 s never exceed 10 grants in any 1 s window."""
        script = textwrap.dedent(
            f"""
            import sys, time, orjson, redis
            from processors.budget import ApiBudget, BudgetPolicy
            client = redis.Redis.from_url({redis_url!r})
            limiter = ApiBudget(client, "ws-shared", BudgetPolicy(10, 1.0, 0.0))
            stamps = []
            end = time.monotonic() + 2.5
            while time.monotonic() < end:
                answer = limiter.take_slot()
                if answer.wait_seconds == 0.0:
                    stamps.append(answer.redis_time_ms / 1000)
                else:
                    time.sleep(min(answer.wait_seconds, 0.05))
            sys.stdout.write(orjson.dumps(stamps).decode())
            """
        )
        workers = [
            subprocess.Popen(
                [sys.executable, "-c", script], cwd=ROOT, stdout=subprocess.PIPE, text=True
            )
            for _ in range(2)
        ]
        stamps: list[float] = []
        per_process = []
        for worker in workers:
            out, _ = worker.communicate(timeout=30)
            assert worker.returncode == 0
            mine = orjson.loads(out)
            per_process.append(len(mine))
            stamps.extend(mine)
        assert max_in_any_window(stamps, 1.0) <= 10
        assert len(stamps) >= 20  # the budget was used, not just respected
        assert all(count > 0 for count in per_process)
