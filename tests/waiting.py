"""Waiting on a condition in tests: poll until it holds, with a deadline that only guards a hang.

Every wait in the suite goes through `wait_until` (in a coroutine: `wait_until_async`, which
yields to the event loop between tries), so none is a sleep and none is a wall-clock bound
tight enough to fail on a loaded machine.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

HANG_SECONDS = 120.0  # generous: at load 10 on 2 cores a Python process starts well within it
LOG_TAIL_CHARS = 4000  # of a process's log, printed when a wait on it fails


def wait_until(
    check: Callable[[], T | None],
    *,
    description: str | None = None,
    timeout: float = HANG_SECONDS,
    interval: float = 0.02,
    log: Callable[[], str] | None = None,
) -> T:
    """Call `check` until it returns something truthy, and return that; fail at the deadline.

    The failure says what was awaited (`description`, else the check's source) and, when
    `log` is given, ends with the tail of what it returns (the log of the awaited process).
    """
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() >= deadline:
            break
        time.sleep(interval)
    raise AssertionError(failure(check, description, timeout, log))


async def wait_until_async(
    check: Callable[[], T | None],
    *,
    description: str | None = None,
    timeout: float = HANG_SECONDS,
    interval: float = 0.02,
    log: Callable[[], str] | None = None,
) -> T:
    """`wait_until` for a coroutine: the event loop runs on between the calls of `check`."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() >= deadline:
            break
        await asyncio.sleep(interval)
    raise AssertionError(failure(check, description, timeout, log))


def failure(
    check: Callable[[], object],
    description: str | None,
    timeout: float,
    log: Callable[[], str] | None,
) -> str:
    """What a wait that ran out says: what was awaited, and the tail of the process's log."""
    message = f"not within {timeout:g}s: {description or describe(check)}"
    if log is not None:
        message += f"\n--- log (last {LOG_TAIL_CHARS} characters) ---\n{log()[-LOG_TAIL_CHARS:]}"
    return message


def describe(check: Callable[[], object]) -> str:
    """The source line of a lambda or the name of a function, for a failure message."""
    try:
        return inspect.getsource(check).strip()
    except (OSError, TypeError):
        return getattr(check, "__qualname__", repr(check))
