"""The alert conditions `ALERT_WEBHOOK_URL` is told about, and when to tell it: pure logic
over `Signals` and the samples of earlier rounds, no I/O.

The conditions are those of `deploy/prometheus/alerts.yml` that the database and Redis can
show; the ones only a process's counters can show (writer restarts, invalid signatures,
download failures) need Prometheus.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from monitoring.signals import Signals


class Alert(StrEnum):
    EVENTS_WAITING = "events_waiting"  # the oldest unprocessed event is too old
    EVENTS_FAILING = "events_failing"  # failed events rose within the window
    DEAD_LETTERS = "dead_letters"  # a message was dead-lettered
    BUDGET_SATURATED = "budget_saturated"  # no budget slot left while the backlog grows
    RATE_LIMITED = "rate_limited"  # a 429 holds every process back right now
    EVENTS_STUCK = "events_stuck"  # held past the lease, or queued and lost
    ENDPOINTS_FLAGGED = "endpoints_flagged"  # the business's app keeps refusing notifications


@dataclass(frozen=True)
class Sample:
    """What a round saw of the values that alert on their rise."""

    at: float  # seconds, the sweeper's wall clock
    failed: int
    backlog: int


@dataclass(frozen=True)
class Thresholds:
    event_age_seconds: float
    window_seconds: float = 900.0  # how far back "rising" and "growing" look


@dataclass(frozen=True)
class Condition:
    active: bool
    summary: str  # one line: what is seen now (no ids, no secrets)


@dataclass(frozen=True)
class Notified:
    """What the webhook was last told about one alert, and when."""

    active: bool
    sent_at: float


@dataclass(frozen=True)
class Transition:
    alert: Alert
    condition: Condition


def sample_of(signals: Signals, at: float) -> Sample:
    return Sample(at, signals.counts.events_by_status.get("failed", 0), signals.backlog)


def within(history: Sequence[Sample], now: float, window_seconds: float) -> list[Sample]:
    """The samples of the last window, oldest first."""
    return sorted((s for s in history if now - s.at <= window_seconds), key=lambda s: s.at)


def conditions(
    signals: Signals, history: Sequence[Sample], now: float, thresholds: Thresholds
) -> dict[Alert, Condition]:
    """Every alert's condition now; `history` holds earlier rounds' samples."""
    window = within(history, now, thresholds.window_seconds)
    current = sample_of(signals, now)
    first = window[0] if window else current
    age = signals.oldest_unprocessed_age_seconds
    minutes = thresholds.window_seconds / 60
    failed_rise = current.failed - first.failed
    budget = signals.budget
    saturated = budget is not None and budget.available == 0
    growing = current.backlog > first.backlog
    counts = signals.counts
    return {
        Alert.EVENTS_WAITING: Condition(
            age > thresholds.event_age_seconds,
            f"the oldest unprocessed event is {age / 60:.1f} min old "
            f"(alert above {thresholds.event_age_seconds / 60:g} min)",
        ),
        Alert.EVENTS_FAILING: Condition(
            failed_rise > 0,
            f"{failed_rise} event(s) failed in the last {minutes:g} min ({current.failed} failed)",
        ),
        Alert.DEAD_LETTERS: Condition(
            signals.dead_letters > 0,
            f"{signals.dead_letters} dead-lettered message(s): voicehook dead-letters list",
        ),
        Alert.BUDGET_SATURATED: Condition(
            saturated and growing,
            f"API budget {'full' if saturated else 'not full'}; backlog {current.backlog} "
            f"({current.backlog - first.backlog:+d} in {minutes:g} min)",
        ),
        Alert.RATE_LIMITED: _rate_limited(0.0 if budget is None else budget.blocked_seconds),
        Alert.EVENTS_STUCK: Condition(
            counts.stuck_events > 0, f"{counts.stuck_events} stuck event(s)"
        ),
        Alert.ENDPOINTS_FLAGGED: Condition(
            bool(counts.flagged_endpoints),
            f"{len(counts.flagged_endpoints)} notification endpoint(s) flagged as failing",
        ),
    }


def _rate_limited(blocked_seconds: float) -> Condition:
    if blocked_seconds > 0:
        return Condition(
            True, f"the API answered 429: every process pauses {blocked_seconds:.0f}s more"
        )
    return Condition(False, "no 429 pause in force")


def due(
    found: Mapping[Alert, Condition],
    notified: Mapping[Alert, Notified],
    now: float,
    min_interval_seconds: float,
) -> list[Transition]:
    """The alerts whose start or end the webhook has not been told yet, and may be now.

    An alert is told of at most once per `min_interval_seconds`: a change inside it waits
    (it is not dropped), so a flapping condition sends one message per interval, and the
    last state is always told in the end. A never-notified alert counts as inactive.
    """
    changes = []
    for alert, condition in found.items():
        last = notified.get(alert, Notified(False, float("-inf")))
        if condition.active == last.active:
            continue
        if now - last.sent_at < min_interval_seconds:
            continue
        changes.append(Transition(alert, condition))
    return changes


def message(transition: Transition, deployment: str) -> dict[str, str]:
    """The Slack-compatible body of one transition."""
    state = "FIRING" if transition.condition.active else "RESOLVED"
    icon = ":rotating_light:" if transition.condition.active else ":white_check_mark:"
    return {
        "text": f"{icon} [{state}] voicehook {deployment}: {transition.alert.value} — "
        f"{transition.condition.summary}"
    }
