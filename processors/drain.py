"""A Dramatiq worker process drains once, however many stop signals reach it.

Dramatiq's worker process stops on its first SIGTERM (in-flight messages get the shutdown
timeout) and exits at once on the second ("Killing worker process"). A second one is what
every stop pattern but a lone `kill PID` produces: a signal to the whole process group
reaches the worker process directly and again through the Dramatiq master, which forwards
what it gets; Ctrl-C in a terminal, honcho, `voicehook dev` and PaaS platforms that signal
every process of a dyno all do that. So the first signal starts the drain and later ones
are logged and ignored; the supervisor's grace period, then SIGKILL, stays the last word.
"""

from __future__ import annotations

import signal
from collections.abc import Callable, Iterable
from types import FrameType
from typing import Any

import structlog

log = structlog.get_logger(__name__)

STOP_SIGNALS = (signal.SIGTERM, signal.SIGHUP)

Handler = Callable[[int, FrameType | None], Any]


def drain_once(signals: Iterable[signal.Signals] = STOP_SIGNALS) -> None:
    """Wrap the current handlers of `signals` so only the first signal reaches them."""
    delivered = False

    def wrap(original: Handler) -> Handler:
        def handler(signum: int, frame: FrameType | None) -> Any:
            nonlocal delivered
            if delivered:
                log.info("worker.already_draining", signal=signal.Signals(signum).name)
                return None
            delivered = True
            return original(signum, frame)

        return handler

    for signum in signals:
        original = signal.getsignal(signum)
        if callable(original):
            signal.signal(signum, wrap(original))
