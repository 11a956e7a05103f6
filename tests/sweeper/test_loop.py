"""The sweeper's loop: every chore each round, failures logged, a stop honoured."""

from __future__ import annotations

import threading

from structlog.testing import capture_logs

from config.errors import BrokerUnavailable
from sweeper.loop import Chore, run_chores


class TestRunChores:
    def test_a_failing_chore_never_stops_the_others(self) -> None:
        """Each chore runs every round; an exception is logged and the round goes on."""
        stop = threading.Event()
        ran: list[str] = []

        def broken() -> bool:
            ran.append("broken")
            raise RuntimeError("boom")

        def broker_down() -> bool:
            ran.append("broker_down")
            raise BrokerUnavailable("redis is down")

        def last() -> bool:
            ran.append("last")
            if ran.count("last") == 2:
                stop.set()
            return True  # more to do: the next round starts without waiting

        chores = [Chore("broken", broken), Chore("broker_down", broker_down), Chore("last", last)]
        with capture_logs() as logs:
            run_chores(chores, stop, interval_seconds=3600)
        assert ran == ["broken", "broker_down", "last"] * 2
        events = [entry["event"] for entry in logs]
        assert events.count("sweeper.chore_failed") == 2
        assert events.count("sweeper.broker_unavailable") == 2
        assert events[-1] == "sweeper.stopped"
