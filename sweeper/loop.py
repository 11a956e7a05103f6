"""The sweeper's loop: run each chore, sleep, repeat until told to stop."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import structlog

from config.errors import BrokerUnavailable

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Chore:
    name: str
    run: Callable[[], bool]  # True: there is more to do right away


def run_chores(chores: Sequence[Chore], stop: threading.Event, interval_seconds: float) -> None:
    """Run every chore each round; a chore's failure is logged and never stops the others."""
    log.info("sweeper.started", chores=[c.name for c in chores], interval_seconds=interval_seconds)
    while not stop.is_set():
        busy = False
        for chore in chores:
            if stop.is_set():
                break
            try:
                busy = chore.run() or busy
            except BrokerUnavailable as exc:
                log.warning("sweeper.broker_unavailable", chore=chore.name, error=str(exc))
            except Exception:
                log.exception("sweeper.chore_failed", chore=chore.name)
        if not busy:
            stop.wait(interval_seconds)
    log.info("sweeper.stopped")
