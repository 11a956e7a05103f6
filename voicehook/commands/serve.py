"""`voicehook web` and `voicehook sweeper`: the long-running processes of the Procfile."""

from __future__ import annotations

import signal
import threading
from functools import partial
from types import FrameType

import structlog
import typer
import uvicorn
from sqlalchemy import Engine

from config.broker import (
    BatchingRedisBroker,
    build_broker,
    enqueue_clone,
    enqueue_events,
    enqueue_submissions,
)
from config.database import make_engine
from config.errors import ConfigurationError
from config.logging import configure_logging
from config.settings import Settings, load_settings
from processors.context import build_context
from processors.maintenance import recover_jobs, recover_voices, remove_stale_downloads
from processors.reconcile import reconcile_once
from receiver.sweeper import sweep_once, sweep_stalled
from records.event_store import EventStore
from voicehook.periodic import Chore, run_chores

log = structlog.get_logger(__name__)

# Longer than an actor's time limit: a job held this long belongs to a dead worker.
SUBMITTING_LEASE_SECONDS = 15 * 60


def _settings_or_exit() -> Settings:
    try:
        return load_settings()
    except ConfigurationError as exc:
        typer.echo(f"voicehook: {exc}", err=True)
        raise typer.Exit(2) from None


def web(
    host: str = typer.Option("0.0.0.0", help="Interface to listen on."),  # noqa: S104
    port: int | None = typer.Option(None, help="Port (default: $PORT, else 8000)."),
    workers: int | None = typer.Option(
        None, min=1, help="Uvicorn worker processes (default: $WEB_CONCURRENCY, else 1)."
    ),
) -> None:
    """Run the webhook receiver under uvicorn."""
    settings = _settings_or_exit()
    configure_logging(settings)
    try:
        settings.webhook_secret_values()
        build_broker(settings)
    except ConfigurationError as exc:
        typer.echo(f"voicehook web: {exc}", err=True)
        raise typer.Exit(2) from None
    uvicorn.run(
        "receiver.app:app_from_environment",
        factory=True,
        host=host,
        port=port or settings.port,
        workers=workers or settings.web_concurrency,
        proxy_headers=True,
        forwarded_allow_ips=",".join(settings.forwarded_allow_ips),
        access_log=False,
        log_config=None,
        timeout_graceful_shutdown=20,
    )


def sweeper() -> None:
    """Enqueue what was committed but never enqueued, recover stuck jobs, reconcile overdue
    generations. Safe to run several."""
    settings = _settings_or_exit()
    configure_logging(settings)
    try:
        broker = build_broker(settings)
    except ConfigurationError as exc:
        typer.echo(f"voicehook sweeper: {exc}", err=True)
        raise typer.Exit(2) from None
    engine = make_engine(settings)
    chores = sweeper_chores(settings, engine, broker)
    stop = threading.Event()

    def _stop(signum: int, _: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    run_chores(chores, stop, settings.sweeper_interval_seconds)


def sweeper_chores(settings: Settings, engine: Engine, broker: BatchingRedisBroker) -> list[Chore]:
    limit = settings.sweeper_batch_size
    enqueue = partial(enqueue_events, broker)
    chores = [
        Chore(
            "enqueue_received_events",
            lambda: (
                sweep_once(
                    engine, enqueue, min_age_seconds=settings.sweeper_min_age_seconds, limit=limit
                )
                >= limit
            ),
        ),
        Chore(
            "requeue_stalled_events",
            lambda: (
                sweep_stalled(
                    engine,
                    enqueue,
                    lease_seconds=settings.event_lease_seconds,
                    stuck_after_seconds=settings.sweeper_stuck_after_seconds,
                    limit=limit,
                )
                >= limit
            ),
        ),
        Chore(
            "recover_jobs",
            lambda: (
                recover_jobs(
                    engine,
                    partial(enqueue_submissions, broker),
                    forgotten_after_seconds=max(60.0, settings.sweeper_min_age_seconds * 2),
                    submitting_lease_seconds=SUBMITTING_LEASE_SECONDS,
                    limit=limit,
                )
                >= limit
            ),
        ),
    ]

    def sweep_partials() -> bool:
        # Older than a worker's lease: no live download stalls that long. One pass is enough.
        remove_stale_downloads(settings.audio_dir, settings.event_lease_seconds)
        return False

    chores.append(Chore("remove_stale_downloads", sweep_partials))
    chores.append(
        Chore(
            "recover_voices",
            lambda: (
                recover_voices(
                    engine,
                    partial(enqueue_clone, broker),
                    forgotten_after_seconds=max(60.0, settings.sweeper_min_age_seconds * 2),
                )
                >= 100
            ),
        )
    )
    try:
        context = build_context(settings, engine)
    except ConfigurationError as exc:
        log.warning("sweeper.no_reconciliation", reason=str(exc))
        return chores
    store = EventStore(engine)
    chores.append(Chore("reconcile", lambda: reconcile_once(context, store, enqueue) > 0))
    return chores
