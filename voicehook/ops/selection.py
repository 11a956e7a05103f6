"""Which events an operator means: `--id`, `--failed`, `--since`, `--type`, `--status`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from records.event_reads import EventFilter
from records.events import EventStatus
from voicehook.errors import InvalidSelection
from voicehook.ops.timespec import parse_instant

STATUSES = tuple(status.value for status in EventStatus)


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
