"""What the drain bench reads back from the service's database: event counts and timings."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine, func, select

from records.events import EVENTS


@dataclass(frozen=True, slots=True)
class EventTiming:
    status: str
    attempts: int
    started_at: datetime | None  # the last claim
    finished_at: datetime | None  # settled


def status_counts(engine: Engine) -> Counter[str]:
    with engine.connect() as conn:
        rows = conn.execute(select(EVENTS.c.status, func.count()).group_by(EVENTS.c.status))
        return Counter({str(status): int(count) for status, count in rows})


def event_timings(engine: Engine) -> list[EventTiming]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(EVENTS.c.status, EVENTS.c.attempts, EVENTS.c.started_at, EVENTS.c.finished_at)
        )
        return [
            EventTiming(str(status), int(attempts), _aware(started), _aware(finished))
            for status, attempts, started, finished in rows
        ]


def _aware(value: datetime | None) -> datetime | None:
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)
