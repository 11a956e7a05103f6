"""The shared budget when Redis loses its data in the middle of a backlog."""

from __future__ import annotations

import threading
from pathlib import Path

import redis

from processors.budget import ApiBudget, BudgetPolicy
from processors.errors import BudgetExhausted, RateLimited
from processors.vpai import VpaiClient, api_http_client
from sandbox.server import run_sandbox
from sandbox.settings import SandboxSettings
from tests.processors.flow import Sandbox
from tests.services import redis_process, wait_for

LIMIT = 10
WINDOW = 2.0


def limiter(url: str, window: float = WINDOW) -> ApiBudget:
    return ApiBudget(redis.Redis.from_url(url), "ws-reset", BudgetPolicy(LIMIT, window, 0.2))


class TestEpoch:
    def test_a_first_start_spends_at_once(self, tmp_path: Path) -> None:
        """A process that never knew the budget takes a slot at once (the first deploy)."""
        with redis_process(tmp_path) as server:
            assert limiter(server.url).try_acquire() == 0.0

    def test_a_lost_budget_is_assumed_full_for_one_window(self, tmp_path: Path) -> None:
        """After Redis restarts empty, a process that knew the budget waits out one window."""
        with redis_process(tmp_path) as server:
            budget = limiter(server.url)
            assert budget.try_acquire() == 0.0
            server.stop()
            server.start()
            wait = budget.try_acquire()
            assert 0.5 * WINDOW < wait <= WINDOW + 0.2
            assert limiter(server.url).try_acquire() > 0  # newcomers are held back too

    def test_the_block_ends_one_window_after_the_loss(self, tmp_path: Path) -> None:
        """A process that calls long after the loss is not held back by it."""
        with redis_process(tmp_path) as server:
            budget = limiter(server.url, window=0.3)
            assert budget.try_acquire() == 0.0
            server.stop()
            server.start()
            newcomer = limiter(server.url, window=0.3)
            assert newcomer.try_acquire() == 0.0
            wait_for(lambda: budget.try_acquire() == 0.0)


class TestBacklogAcrossARestart:
    def test_no_429_when_redis_restarts_empty(self, tmp_path: Path) -> None:
        """Four callers draining a backlog through a Redis restart draw no 429 upstream."""
        settings = SandboxSettings(
            speech="tone", rate_limit_requests=LIMIT, rate_limit_window_seconds=WINDOW
        )
        with redis_process(tmp_path) as server, run_sandbox(settings) as sandbox:
            control = Sandbox(sandbox)
            served: list[int] = []
            stop = threading.Event()

            def drain() -> None:
                http = api_http_client(sandbox.api_base_url, sandbox.api_key, 5.0)
                # Callers come back often, as new messages for a backlog's workers do.
                client = VpaiClient(http, limiter(server.url), max_budget_wait_seconds=0.0)
                while not stop.is_set():
                    try:
                        client.list_voices()
                        served.append(1)
                    except (BudgetExhausted, RateLimited, redis.ConnectionError):
                        stop.wait(0.02)  # no slot, a 429 (counted upstream), Redis restarting

            callers = [threading.Thread(target=drain) for _ in range(4)]
            for caller in callers:
                caller.start()
            try:
                wait_for(lambda: len(served) >= LIMIT * 2)
                server.stop()
                server.start()
                restarted_at = len(served)
                wait_for(lambda: len(served) >= restarted_at + LIMIT * 2)
            finally:
                stop.set()
                for caller in callers:
                    caller.join()
            requests = control.workspace()["requests"]
            print(f"served={requests['served']} rate_limited={requests['rateLimited']}")
            assert requests["served"] == len(served)
            assert requests["rateLimited"] == 0
