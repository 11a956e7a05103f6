"""Time specs as operators type them: durations ago, or ISO-8601 instants."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from voicehook.errors import InvalidTimeSpec
from voicehook.ops.timespec import parse_duration, parse_instant

NOW = datetime(2025, 3, 10, 12, 0, 0, tzinfo=UTC)


class TestParseDuration:
    @pytest.mark.parametrize(
        ("spec", "expected"),
        [
            ("90s", timedelta(seconds=90)),
            ("30m", timedelta(minutes=30)),
            ("2h", timedelta(hours=2)),
            ("7d", timedelta(days=7)),
            ("1w", timedelta(weeks=1)),
            ("1h30m", timedelta(minutes=90)),
            ("1.5h", timedelta(minutes=90)),
            (" 30D ", timedelta(days=30)),
        ],
    )
    def test_units(self, spec: str, expected: timedelta) -> None:
        """Each unit (s, m, h, d, w), combinations and fractions mean what they say."""
        assert parse_duration(spec) == expected

    @pytest.mark.parametrize("spec", ["", "30", "d", "30x", "-5m", "0d", "1h 30m", "2025-01-01"])
    def test_refuses_what_is_not_a_positive_duration(self, spec: str) -> None:
        """A number without unit, an unknown unit, zero or a negative value is refused."""
        with pytest.raises(InvalidTimeSpec):
            parse_duration(spec)


class TestParseInstant:
    def test_duration_counts_back_from_now(self) -> None:
        """`2h` is two hours before now."""
        assert parse_instant("2h", NOW) == NOW - timedelta(hours=2)

    @pytest.mark.parametrize(
        ("spec", "expected"),
        [
            ("2025-03-01T08:00:00Z", datetime(2025, 3, 1, 8, tzinfo=UTC)),
            ("2025-03-01T10:00:00+02:00", datetime(2025, 3, 1, 8, tzinfo=UTC)),
            ("2025-03-01T08:00:00", datetime(2025, 3, 1, 8, tzinfo=UTC)),
            ("2025-03-01", datetime(2025, 3, 1, tzinfo=UTC)),
        ],
    )
    def test_iso_times_are_utc(self, spec: str, expected: datetime) -> None:
        """ISO-8601 with Z, with an offset, naive (taken as UTC) or a bare date."""
        parsed = parse_instant(spec, NOW)
        assert parsed == expected
        assert parsed.tzinfo is UTC

    def test_nonsense_names_both_accepted_forms(self) -> None:
        """An unreadable value is refused with a message showing both forms."""
        with pytest.raises(InvalidTimeSpec, match=r"30m.*ISO-8601"):
            parse_instant("last tuesday", NOW)
