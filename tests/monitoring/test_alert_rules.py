"""The alert conditions and when a change is told: pure logic over plain values."""

from __future__ import annotations

from datetime import timedelta

from monitoring.alert_rules import (
    Alert,
    Condition,
    Notified,
    Sample,
    Thresholds,
    conditions,
    due,
    message,
)
from monitoring.signals import QueueDepth, Signals
from processors.budget_usage import BudgetUsage
from records.health_reads import StoredCounts
from records.types import utcnow

THRESHOLDS = Thresholds(event_age_seconds=600, window_seconds=900)


def snapshot(
    *,
    failed: int = 0,
    queued: int = 0,
    age_seconds: float | None = None,
    dead: int = 0,
    budget: BudgetUsage | None = None,
    stuck: int = 0,
    flagged: tuple[str, ...] = (),
) -> Signals:
    now = utcnow()
    return Signals(
        read_at=now,
        counts=StoredCounts(
            events_by_status={"failed": failed, "queued": queued},
            jobs_by_status={},
            oldest_unprocessed_at=None
            if age_seconds is None
            else now - timedelta(seconds=age_seconds),
            stuck_events=stuck,
            flagged_endpoints=list(flagged),
        ),
        queues={"events": QueueDepth(0, 0, dead)},
        workspace="ws",
        budget=budget,
    )


def active(signals: Signals, history: list[Sample], now: float = 10_000.0) -> set[Alert]:
    return {a for a, c in conditions(signals, history, now, THRESHOLDS).items() if c.active}


class TestConditions:
    def test_all_quiet(self) -> None:
        """Nothing waiting, failing, dead, saturated or stuck: no alert is active."""
        assert active(snapshot(budget=BudgetUsage(3, 60, 0.0)), []) == set()

    def test_old_event(self) -> None:
        """The oldest unprocessed event past the threshold fires; below it does not."""
        assert Alert.EVENTS_WAITING in active(snapshot(age_seconds=601), [])
        assert Alert.EVENTS_WAITING not in active(snapshot(age_seconds=599), [])

    def test_failed_rising_within_the_window(self) -> None:
        """More failed events than the window's first sample fires; a rise older than the
        window does not."""
        recent = [Sample(9_500.0, failed=2, backlog=0)]
        assert Alert.EVENTS_FAILING in active(snapshot(failed=3), recent)
        old = [Sample(1_000.0, failed=2, backlog=0)]
        assert Alert.EVENTS_FAILING not in active(snapshot(failed=3), old)
        assert Alert.EVENTS_FAILING not in active(snapshot(failed=3), [])

    def test_dead_letters_stuck_and_flagged(self) -> None:
        """A dead letter, a stuck event and a flagged endpoint each fire their alert."""
        found = active(snapshot(dead=1, stuck=2, flagged=("http://app/h",)), [])
        assert found == {Alert.DEAD_LETTERS, Alert.EVENTS_STUCK, Alert.ENDPOINTS_FLAGGED}

    def test_budget_saturated_only_with_a_growing_backlog(self) -> None:
        """A full budget fires only while the backlog grew within the window."""
        full = BudgetUsage(60, 60, 0.0)
        history = [Sample(9_800.0, failed=0, backlog=5)]
        assert Alert.BUDGET_SATURATED in active(snapshot(queued=9, budget=full), history)
        assert Alert.BUDGET_SATURATED not in active(snapshot(queued=5, budget=full), history)
        spare = BudgetUsage(10, 60, 0.0)
        assert Alert.BUDGET_SATURATED not in active(snapshot(queued=9, budget=spare), history)

    def test_rate_limited_while_a_pause_holds(self) -> None:
        """A 429's pause in force fires; none does not."""
        assert Alert.RATE_LIMITED in active(snapshot(budget=BudgetUsage(0, 60, 12.0)), [])
        assert Alert.RATE_LIMITED not in active(snapshot(budget=BudgetUsage(0, 60, 0.0)), [])


class TestDue:
    ON = Condition(True, "on")
    OFF = Condition(False, "off")

    def test_start_and_end_are_told_once(self) -> None:
        """A new condition is told; the same state again is not; its end is."""
        [start] = due({Alert.DEAD_LETTERS: self.ON}, {}, 1_000.0, 300.0)
        assert start.alert is Alert.DEAD_LETTERS
        assert start.condition.active
        told = {Alert.DEAD_LETTERS: Notified(True, 1_000.0)}
        assert due({Alert.DEAD_LETTERS: self.ON}, told, 2_000.0, 300.0) == []
        [end] = due({Alert.DEAD_LETTERS: self.OFF}, told, 2_000.0, 300.0)
        assert not end.condition.active

    def test_never_told_and_inactive_is_silent(self) -> None:
        """An alert that never fired has no end to tell."""
        assert due({Alert.DEAD_LETTERS: self.OFF}, {}, 1_000.0, 300.0) == []

    def test_a_change_inside_the_interval_waits(self) -> None:
        """A change within the interval of the last message waits; after it, it is told."""
        told = {Alert.EVENTS_FAILING: Notified(True, 1_000.0)}
        assert due({Alert.EVENTS_FAILING: self.OFF}, told, 1_100.0, 300.0) == []
        assert len(due({Alert.EVENTS_FAILING: self.OFF}, told, 1_300.0, 300.0)) == 1

    def test_message_is_slack_text(self) -> None:
        """The body is Slack's `text`, saying the state, the alert and what is seen."""
        [start] = due({Alert.DEAD_LETTERS: Condition(True, "2 dead")}, {}, 0.0, 0.0)
        body = message(start, "prod")
        assert list(body) == ["text"]
        assert "[FIRING]" in body["text"]
        assert "dead_letters" in body["text"]
        assert "2 dead" in body["text"]
        assert "prod" in body["text"]
