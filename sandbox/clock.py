"""Time as the sandbox sees it: real time plus an offset the control API can move forward."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Protocol

from sandbox.errors import ClockBackwards


class Clock(Protocol):
    """What every time-dependent part of the sandbox reads; swapped in tests without mocks."""

    def now(self) -> datetime:
        """The current UTC time (timezone-aware)."""
        ...

    def monotonic(self) -> float:
        """Seconds on a clock that never goes back; only differences are meaningful."""
        ...


def _utcnow() -> datetime:
    return datetime.now(UTC)


class SandboxClock:
    """Real time plus an offset; `advance` moves wall and monotonic time forward together."""

    def __init__(
        self,
        wall: Callable[[], datetime] = _utcnow,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._wall = wall
        self._monotonic = monotonic
        self._offset = 0.0

    @property
    def offset(self) -> float:
        return self._offset

    def now(self) -> datetime:
        return self._wall() + timedelta(seconds=self._offset)

    def monotonic(self) -> float:
        return self._monotonic() + self._offset

    def advance(self, seconds: float) -> None:
        """Jump forward; refusing to go back keeps every deadline computed so far valid."""
        if seconds < 0:
            raise ClockBackwards("the sandbox clock only moves forward")
        self._offset += seconds

    def reset(self) -> None:
        self._offset = 0.0


def iso_seconds(moment: datetime) -> str:
    """`2025-01-01T00:00:05Z`, the resource timestamp format of the contract."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_millis(moment: datetime) -> str:
    """`2025-01-01T00:00:00.000Z`, the webhook body timestamp format of the contract."""
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"
