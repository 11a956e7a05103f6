"""Doing something at a steady rate, and sampling something at a steady interval."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class PacedRun:
    count: int
    seconds: float  # from the first call's start to the last call's end
    most_behind: float  # seconds the latest call started after its slot

    @property
    def rate(self) -> float:
        return self.count / self.seconds if self.seconds > 0 else float("inf")


def paced(
    rate: float,
    count: int,
    action: Callable[[int], None],
    *,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> PacedRun:
    """Call `action(i)` for i in range(count), the i-th at start + i/rate (never early; when
    behind, at once, so the rate is caught up rather than lost)."""
    start = clock()
    behind = 0.0
    for index in range(count):
        due = start + index / rate
        now = clock()
        if now < due:
            sleep(due - now)
        else:
            behind = max(behind, now - due)
        action(index)
    return PacedRun(count=count, seconds=clock() - start, most_behind=behind)


class Sampler(Generic[T]):
    """Calls `sample()` every `interval` seconds on a thread, keeping the results in order."""

    def __init__(self, sample: Callable[[], T], interval: float) -> None:
        self._sample = sample
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bench-sampler", daemon=True)
        self._error: BaseException | None = None
        self.samples: list[T] = []

    def __enter__(self) -> Sampler[T]:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        if self._error is not None:
            raise self._error

    def _run(self) -> None:
        next_at = time.monotonic()
        try:
            while not self._stop.is_set():
                self.samples.append(self._sample())
                next_at += self._interval
                self._stop.wait(max(0.0, next_at - time.monotonic()))
        except BaseException as exc:  # surfaced by __exit__
            self._error = exc
