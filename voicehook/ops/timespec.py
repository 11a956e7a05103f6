"""Points in time as an operator types them: `30m`, `2h`, `7d`, `1h30m` ago, or ISO-8601."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from voicehook.errors import InvalidTimeSpec

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_PART = re.compile(r"(\d+(?:\.\d+)?)([smhdw])")
_DURATION = re.compile(r"(?:\d+(?:\.\d+)?[smhdw])+")


def parse_duration(spec: str) -> timedelta:
    """`30m`, `2h`, `7d`, `1w`, `1h30m` (s, m, h, d, w) as a positive timedelta."""
    text = spec.strip().lower()
    if not _DURATION.fullmatch(text):
        raise InvalidTimeSpec(
            f"{spec!r} is not a duration: use a number and a unit (s, m, h, d, w), e.g. 30m or 7d"
        )
    seconds = sum(float(n) * _UNITS[unit] for n, unit in _PART.findall(text))
    if seconds <= 0:
        raise InvalidTimeSpec(f"{spec!r} is not a positive duration")
    return timedelta(seconds=seconds)


def parse_instant(spec: str, now: datetime) -> datetime:
    """A duration before `now`, or an ISO-8601 date/time (UTC when it names no zone)."""
    text = spec.strip()
    if _DURATION.fullmatch(text.lower()):
        return now - parse_duration(text)
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise InvalidTimeSpec(
            f"{spec!r} is neither a duration (30m, 2h, 7d) nor an ISO-8601 time "
            "(2025-01-31 or 2025-01-31T12:00:00Z)"
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)
