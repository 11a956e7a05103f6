"""Did the receiver do what its acknowledgements promised? Pure checks over counted state."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from bench.report import WrkReport


@dataclass(frozen=True, slots=True)
class StoredState:
    """What the database holds after the receiver stopped."""

    events: int
    deliveries: int
    duplicate_deliveries: int
    queued_events: int
    event_ids: frozenset[str]


@dataclass(frozen=True, slots=True)
class QueueState:
    """What the broker's events queue holds after the receiver stopped."""

    length: int  # message ids waiting in the list
    stored_messages: int  # message bodies in the queue's hash
    event_ids: frozenset[str]  # the event id each stored message asks to process


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    passed: bool
    detail: str

    def line(self) -> str:
        return f"check {self.name}: {'ok' if self.passed else 'FAILED'} - {self.detail}"


def verify_ingest(runs: Sequence[WrkReport], stored: StoredState, queue: QueueState) -> list[Check]:
    """Every check of a receiver run: clean answers, durable, unique, queued and enqueued.

    wrk stops mid-flight, so a few deliveries it sent may be stored without wrk counting
    their answers: the stored count must lie between the acknowledged and the sent counts.
    """
    acknowledged = sum(run.acknowledged for run in runs)
    sent = sum(run.sent for run in runs)
    errors = sum(run.errors for run in runs)
    exhausted = sum(run.exhausted for run in runs)
    return [
        Check(
            "answers",
            errors == 0 and exhausted == 0,
            f"{acknowledged:,} acknowledged, {errors} errors (non-2xx, socket, timeout)"
            + (f", bodies ran out {exhausted} time(s): raise --requests" if exhausted else ""),
        ),
        Check(
            "durable",
            acknowledged <= stored.events <= sent,
            f"{stored.events:,} events stored for {acknowledged:,} acknowledged"
            f" and {sent:,} sent deliveries",
        ),
        Check(
            "unique",
            stored.deliveries == stored.events and stored.duplicate_deliveries == 0,
            f"{stored.deliveries:,} deliveries, {stored.duplicate_deliveries} duplicates",
        ),
        Check(
            "marked queued",
            stored.queued_events == stored.events,
            f"{stored.queued_events:,} of {stored.events:,} events have status queued",
        ),
        Check(
            "enqueued",
            queue.length == queue.stored_messages == stored.events
            and queue.event_ids == stored.event_ids,
            f"{queue.length:,} messages queued, {queue.stored_messages:,} stored,"
            f" {len(queue.event_ids & stored.event_ids):,} matching stored events",
        ),
    ]


PROBLEM_LEVELS = frozenset({"warning", "error", "critical", "exception"})


def check_log(text: str) -> Check:
    """The receiver logged nothing worse than info, and only JSON lines (no raw tracebacks)."""
    lines = [line for line in text.splitlines() if line.strip()]
    problems = []
    for line in lines:
        try:
            level = json.loads(line).get("level")
        except (ValueError, AttributeError):
            problems.append(line)
            continue
        if level in PROBLEM_LEVELS:
            problems.append(line)
    detail = f"{len(lines):,} lines, {len(problems)} warnings, errors or non-JSON lines"
    if problems:
        detail += "; first: " + problems[0][:300]
    return Check("receiver log", not problems, detail)
