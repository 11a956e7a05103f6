"""One POST /v1/generations in flight per workspace, on a real Redis."""

from __future__ import annotations

import threading

import redis

from processors.submission_gate import SubmissionGate
from tests.services import wait_for


def gate(url: str, hold: float = 30.0) -> SubmissionGate:
    return SubmissionGate(redis.Redis.from_url(url), "ws-gate", hold)


class TestSubmissionGate:
    def test_one_holder_at_a_time(self, redis_url: str) -> None:
        """A second submission does not pass while the first holds the gate."""
        first = gate(redis_url).enter(0.0)
        assert first is not None
        assert gate(redis_url).enter(0.05) is None
        gate(redis_url).leave(first)
        assert gate(redis_url).enter(0.0) is not None

    def test_a_dead_holders_gate_expires(self, redis_url: str) -> None:
        """A holder that never leaves (its worker died) holds it only for its window."""
        assert gate(redis_url, hold=0.2).enter(0.0) is not None
        wait_for(lambda: gate(redis_url).enter(0.0) is not None)

    def test_leaving_late_does_not_free_someone_elses_gate(self, redis_url: str) -> None:
        """A holder whose gate expired cannot free the next holder's."""
        late = gate(redis_url, hold=0.1).enter(0.0)
        assert late is not None
        wait_for(lambda: gate(redis_url).enter(0.0) is not None)
        gate(redis_url).leave(late)
        assert gate(redis_url).enter(0.0) is None

    def test_threads_of_one_process_take_turns(self, redis_url: str) -> None:
        """A thread waiting behind another of its process passes once that one leaves."""
        shared = gate(redis_url)
        first = shared.enter(0.0)
        assert first is not None
        assert shared.enter(0.05) is None  # its turn is taken: it gives up at its deadline
        second: list[str | None] = []
        waiter = threading.Thread(target=lambda: second.append(shared.enter(30.0)))
        waiter.start()
        shared.leave(first)
        waiter.join()
        assert second[0] is not None
        assert gate(redis_url).enter(0.0) is None  # held by the second, across processes too
        shared.leave(second[0])
        assert shared.enter(0.0) is not None
