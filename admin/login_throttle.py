"""Bounds on guessing the admin token: failed logins per client address and in total."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable

PER_ADDRESS = 5  # failed logins one address may make per window
IN_TOTAL = 50  # failed logins from everyone per window (an attacker with many addresses)
WINDOW_SECONDS = 300.0
MAX_TRACKED = 10_000  # addresses remembered; the oldest are forgotten first


class LoginThrottle:
    """Counts failures in a sliding window; `retry_after` says how long a client must wait."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._by_address: OrderedDict[str, deque[float]] = OrderedDict()
        self._all: deque[float] = deque()

    def retry_after(self, address: str) -> float:
        """0.0 when `address` may try now, else the seconds until it may."""
        now = self._clock()
        with self._lock:
            self._expire(self._all, now)
            mine = self._by_address.get(address)
            if mine is not None:
                self._expire(mine, now)
            waits = [0.0]
            if len(self._all) >= IN_TOTAL:
                waits.append(self._all[0] + WINDOW_SECONDS - now)
            if mine is not None and len(mine) >= PER_ADDRESS:
                waits.append(mine[0] + WINDOW_SECONDS - now)
            return max(waits)

    def failed(self, address: str) -> None:
        now = self._clock()
        with self._lock:
            self._all.append(now)
            mine = self._by_address.pop(address, None) or deque()
            mine.append(now)
            self._by_address[address] = mine
            while len(self._by_address) > MAX_TRACKED:
                self._by_address.popitem(last=False)

    def succeeded(self, address: str) -> None:
        with self._lock:
            self._by_address.pop(address, None)

    @staticmethod
    def _expire(times: deque[float], now: float) -> None:
        while times and times[0] <= now - WINDOW_SECONDS:
            times.popleft()
