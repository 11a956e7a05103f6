"""`voicehook sweeper`: build what the chores need, then run them until SIGTERM or SIGINT."""

from __future__ import annotations

import signal
import threading
from types import FrameType

from config.broker import build_broker
from config.database import make_engine
from config.settings import Settings
from records.notify_endpoints import sync_env_endpoints
from sweeper.chores import build_chores
from sweeper.last_round import RoundRecorder
from sweeper.loop import run_chores


def run_sweeper(settings: Settings) -> None:
    """Run every chore each `SWEEPER_INTERVAL_SECONDS` until a signal asks to stop.

    Raises ConfigurationError (before anything runs) when the broker cannot be built.
    """
    broker = build_broker(settings)
    engine = make_engine(settings)
    sync_env_endpoints(engine, settings.notify_urls)
    chores = build_chores(settings, engine, broker)
    stop = threading.Event()

    def _stop(signum: int, _: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    run_chores(chores, stop, settings.sweeper_interval_seconds, RoundRecorder(broker.client))
