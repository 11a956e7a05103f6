"""Refused deliveries per minute over the last hour, in this process (they leave no row in
the database, so the dashboard counts them here). Pure: the clock is passed in."""

from __future__ import annotations

from collections import Counter, deque

MINUTES = 60


class MinuteTally:
    """Counts of each outcome per minute, the last `MINUTES` minutes kept."""

    def __init__(self) -> None:
        self._minutes: deque[tuple[int, Counter[str]]] = deque(maxlen=MINUTES)

    def add(self, outcome: str, now_seconds: float) -> None:
        minute = int(now_seconds // 60)
        if not self._minutes or self._minutes[-1][0] != minute:
            self._minutes.append((minute, Counter()))
        self._minutes[-1][1][outcome] += 1

    def last_hour(self, now_seconds: float) -> list[tuple[int, dict[str, int]]]:
        """(minute since the epoch, counts) for each of the last 60 minutes, oldest first."""
        current = int(now_seconds // 60)
        found = dict(list(self._minutes))
        return [
            (minute, dict(found.get(minute, {})))
            for minute in range(current - MINUTES + 1, current + 1)
        ]
