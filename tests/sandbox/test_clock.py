"""The sandbox clock and its timestamp formats."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from sandbox.clock import SandboxClock, iso_millis, iso_seconds
from sandbox.errors import ClockBackwards

START = datetime(2025, 1, 1, tzinfo=UTC)


class TestSandboxClock:
    def test_advance_moves_wall_and_monotonic_time_together(self) -> None:
        """Advancing by N seconds adds N to both readings, on top of real time."""
        clock = SandboxClock(wall=lambda: START, monotonic=lambda: 100.0)
        clock.advance(30)
        assert clock.now() == START + timedelta(seconds=30)
        assert clock.monotonic() == 130.0
        assert clock.offset == 30

    def test_never_goes_back(self) -> None:
        """A negative advance is refused; only a reset returns to real time."""
        clock = SandboxClock(wall=lambda: START, monotonic=lambda: 0.0)
        with pytest.raises(ClockBackwards, match="forward"):
            clock.advance(-1)
        clock.advance(5)
        clock.reset()
        assert clock.now() == START

    def test_real_time_by_default(self) -> None:
        """Unconfigured, the clock reads the real UTC time."""
        assert abs(SandboxClock().now() - datetime.now(UTC)) < timedelta(seconds=1)


class TestTimestamps:
    def test_resource_timestamps_have_seconds_and_z(self) -> None:
        """createdAt/completedAt look like `2025-01-01T00:00:05Z`."""
        assert iso_seconds(START + timedelta(seconds=5.7)) == "2025-01-01T00:00:05Z"

    def test_webhook_timestamps_have_milliseconds_and_z(self) -> None:
        """A webhook body's timestamp looks like `2025-01-01T00:00:00.123Z`, converted to UTC."""
        moment = datetime(2025, 1, 1, 2, 0, 0, 123456, tzinfo=timezone(timedelta(hours=2)))
        assert iso_millis(moment) == "2025-01-01T00:00:00.123Z"
