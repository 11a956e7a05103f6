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


def run_chores(
    chores: Sequence[Chore],
    stop: threading.Event,
    interval_seconds: float,
    on_round: Callable[[list[str], list[str]], None] | None = None,
) -> None:
    """Run every chore each round; a chore's failure is logged and never stops the others.
    `on_round` hears, after each round, which chores found work and which failed."""
    log.info("sweeper.started", chores=[c.name for c in chores], interval_seconds=interval_seconds)
    while not stop.is_set():
        busy: list[str] = []
        failed: list[str] = []
        for chore in chores:
            if stop.is_set():
                break
            try:
                if chore.run():
                    busy.append(chore.name)
            except BrokerUnavailable as exc:
                failed.append(chore.name)
                log.warning("sweeper.broker_unavailable", chore=chore.name, error=str(exc))
            except Exception:
                failed.append(chore.name)
                log.exception("sweeper.chore_failed", chore=chore.name)
        if on_round is not None:
            on_round(busy, failed)
        if not busy:
            stop.wait(interval_seconds)
    log.info("sweeper.stopped")
