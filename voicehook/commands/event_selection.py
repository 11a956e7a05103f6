"""What the `voicehook events` commands share: choosing events, and saying what is wrong."""

from __future__ import annotations

from collections.abc import Sequence

import typer
from sqlalchemy import Engine

from records.errors import AmbiguousId
from records.event_reads import EventFilter
from records.events import EVENTS
from records.lookup import resolve_ids
from records.types import utcnow
from voicehook.errors import InvalidSelection, InvalidTimeSpec
from voicehook.ops.selection import build_filter

SINCE_HELP = "Only since then: a duration ago (30m, 2h, 7d) or an ISO-8601 time."
JSON_HELP = "Print JSON."


def event_filter(
    ids: Sequence[str] = (),
    failed: bool = False,
    since: str | None = None,
    event_type: str | None = None,
    status: str | None = None,
) -> EventFilter:
    try:
        return build_filter(
            now=utcnow(), ids=ids, failed=failed, since=since, event_type=event_type, status=status
        )
    except (InvalidSelection, InvalidTimeSpec) as exc:
        raise fail(str(exc), 2) from None


def fail(message: str, code: int = 1) -> typer.Exit:
    typer.echo(f"voicehook events: {message}", err=True)
    return typer.Exit(code)


def full_ids(engine: Engine, given: Sequence[str]) -> list[str]:
    """Each id as typed, or the one event id it is a prefix of (an unknown one stays)."""
    try:
        return resolve_ids(engine, EVENTS.c.id, given)
    except AmbiguousId as exc:
        raise fail(str(exc), 2) from None
