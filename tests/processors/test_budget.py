"""The shared API budget, on a real Redis, across threads and processes."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import orjson
import redis

from processors.budget import ApiBudget, BudgetPolicy, Priority
from tests.services import ROOT, wait_for

GRANTS_EACH = 12  # two processes need more than two windows for 24 grants


def budget(
    url: str, limit: int = 5, window: float = 1.0, margin: float = 0.0, workspace: str = "ws-test"
) -> ApiBudget:
    return ApiBudget(redis.Redis.from_url(url), workspace, BudgetPolicy(limit, window, margin))


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
    """Windows are long where a test reads a wait, so a slow machine cannot shift it; where
    a slot must come back, the test waits for it (a deadline only guards against a hang)."""

    def test_grants_the_limit_then_says_how_long_to_wait(self, redis_url: str) -> None:
        """Five slots per minute: five granted, the sixth told to wait about a minute."""
        limiter = budget(redis_url, window=60.0)
        assert [limiter.try_acquire() for _ in range(5)] == [0.0] * 5
        assert 30.0 < limiter.try_acquire() <= 60.01

    def test_a_slot_comes_back_when_the_window_passes(self, redis_url: str) -> None:
        """Once the window has passed its oldest grant, a slot is granted again."""
        limiter = budget(redis_url, limit=1, window=0.2)
        assert limiter.try_acquire() == 0.0
        wait_for(lambda: limiter.try_acquire() == 0.0, description="a slot came back")

    def test_low_priority_stops_before_the_reserve(self, redis_url: str) -> None:
        """Low priority gets slots only while the reserve stays free; normal still gets it."""
        limiter = budget(redis_url, limit=10, window=60.0)
        granted = sum(limiter.try_acquire(Priority.LOW) == 0.0 for _ in range(12))
        assert granted == 9
        assert limiter.try_acquire(Priority.NORMAL) == 0.0
        assert limiter.try_acquire(Priority.NORMAL) > 0

    def test_block_for_stops_everyone(self, redis_url: str) -> None:
        """After a 429 no slot is granted, to any limiter of the workspace, until it passes."""
        limiter = budget(redis_url, limit=100)
        limiter.block_for(60.0)
        assert 30.0 < limiter.try_acquire() <= 60.01
        assert budget(redis_url, limit=100).try_acquire() > 30.0
        briefly = budget(redis_url, limit=100, workspace="ws-briefly")
        briefly.block_for(0.2)
        wait_for(lambda: briefly.try_acquire() == 0.0, description="the block passed")

    def test_acquire_reports_the_wait_it_may_not_take(self, redis_url: str) -> None:
        """acquire() with no time to wait takes no slot and reports the wait."""
        limiter = budget(redis_url, limit=1, window=60.0)
        assert limiter.acquire() == 0.0
        assert limiter.acquire(max_wait_seconds=0.0) > 30.0

    def test_acquire_sleeps_for_a_slot(self, redis_url: str) -> None:
        """acquire() allowed to wait longer than the window gets the next slot."""
        limiter = budget(redis_url, limit=1, window=0.2)
        assert limiter.acquire() == 0.0
        assert limiter.acquire(max_wait_seconds=30.0) == 0.0

    def test_two_processes_share_one_budget(self, redis_url: str) -> None:
        """Two processes hammering for 12 grants each never exceed 10 in any 1 s window."""
        script = textwrap.dedent(
            f"""
            import sys, time, orjson, redis
            from processors.budget import ApiBudget, BudgetPolicy
            client = redis.Redis.from_url({redis_url!r})
            limiter = ApiBudget(client, "ws-shared", BudgetPolicy(10, 1.0, 0.0))
            stamps = []
            give_up = time.monotonic() + 120  # a hang guard, not a measure
            while len(stamps) < {GRANTS_EACH} and time.monotonic() < give_up:
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
        for worker in workers:
            out, _ = worker.communicate(timeout=150)
            assert worker.returncode == 0
            mine = orjson.loads(out)
            assert len(mine) == GRANTS_EACH
            stamps.extend(mine)
        assert max_in_any_window(stamps, 1.0) <= 10
