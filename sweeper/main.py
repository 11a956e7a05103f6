"""`voicehook sweeper`: build what the chores need, then run them until SIGTERM or SIGINT."""

from __future__ import annotations

import signal
import threading
from types import FrameType

from sqlalchemy import Engine

from config.broker import build_broker
from config.database import make_engine
from config.settings import Settings
from monitoring.exposition import MetricsServer, exported_registry, serve_metrics
from monitoring.gauges import queue_gauges
from processors import metrics as api_metrics
from records.notify_endpoints import sync_env_endpoints
from sweeper import metrics
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
    server = sweeper_metrics(settings, engine)
    try:
        run_chores(chores, stop, settings.sweeper_interval_seconds, RoundRecorder(broker.client))
    finally:
        if server is not None:
            server.stop()


def sweeper_metrics(settings: Settings, engine: Engine) -> MetricsServer | None:
    """With SWEEPER_METRICS_PORT: its `/metrics` (repairs, API calls, queue gauges)."""
    if settings.sweeper_metrics_port is None:
        return None
    gauges = [queue_gauges(settings, engine)] if settings.metrics_queue_gauges else []
    registry = exported_registry(*gauges, own=[metrics.REGISTRY, api_metrics.REGISTRY])
    return serve_metrics(registry, settings, settings.sweeper_metrics_port, "SWEEPER_METRICS_PORT")
