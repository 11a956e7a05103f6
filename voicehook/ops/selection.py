"""Which events an operator means: `--id`, `--failed`, `--since`, `--type`, `--status`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Table

from records.events import EVENTS, EventStatus
from voicehook.errors import InvalidSelection
from voicehook.ops.timespec import parse_instant

STATUSES = tuple(status.value for status in EventStatus)


@dataclass(frozen=True, slots=True)
class EventFilter:
    """Conditions on events; empty means every event."""

    ids: tuple[str, ...] = ()
    since: datetime | None = None
    event_type: str | None = None
    status: str | None = None

    @property
    def empty(self) -> bool:
        return not (self.ids or self.since or self.event_type or self.status)

    def conditions(self, since_column: Table | None = None) -> list[ColumnElement[bool]]:
        """WHERE clauses on `events`; `since` applies to `since_column`'s received_at
        (the deliveries table for an export, the events table otherwise)."""
        received_at = (since_column if since_column is not None else EVENTS).c.received_at
        found: list[ColumnElement[bool]] = []
        if self.ids:
            found.append(EVENTS.c.id.in_(self.ids))
        if self.since is not None:
            found.append(received_at >= self.since)
        if self.event_type:
            found.append(EVENTS.c.type == self.event_type)
        if self.status:
            found.append(EVENTS.c.status == self.status)
        return found


def build_filter(
    *,
    now: datetime,
    ids: Sequence[str] = (),
    failed: bool = False,
    since: str | None = None,
    event_type: str | None = None,
    status: str | None = None,
) -> EventFilter:
    """The filter the flags describe; InvalidSelection (or InvalidTimeSpec) when they can't."""
    if status is not None and status not in STATUSES:
        raise InvalidSelection(f"unknown status {status!r}; one of: {', '.join(STATUSES)}")
    if failed:
        if status not in (None, EventStatus.FAILED.value):
            raise InvalidSelection(f"--failed selects status failed, not {status!r}")
        status = EventStatus.FAILED.value
    return EventFilter(
        ids=tuple(dict.fromkeys(i.strip() for i in ids if i.strip())),
        since=parse_instant(since, now) if since else None,
        event_type=event_type or None,
        status=status,
    )
