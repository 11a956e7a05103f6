"""`voicehook web` and `voicehook sweeper`: the long-running processes of the Procfile."""

from __future__ import annotations

import asyncio
import contextlib
import os
import resource
import signal
import threading
from functools import partial
from types import FrameType
from typing import cast

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
from config.settings import Settings
from processors.context import build_context
from processors.maintenance import recover_jobs, recover_voices, remove_stale_downloads
from processors.reconcile import reconcile_once
from receiver.forwarded import TrustedProxies
from receiver.http_limits import EdgeLimits, GuardedHttpToolsProtocol, connection_bound
from receiver.sweeper import sweep_once, sweep_stalled
from records.event_store import EventStore
from voicehook.periodic import Chore, run_chores

log = structlog.get_logger(__name__)

# Longer than an actor's time limit: a job held this long belongs to a dead worker.
SUBMITTING_LEASE_SECONDS = 15 * 60


def _settings_or_exit() -> Settings:
    try:
        return Settings()
    except ValueError as exc:
        typer.echo(f"voicehook: invalid configuration:\n{exc}", err=True)
        raise typer.Exit(2) from None


def web(
    host: str = typer.Option("0.0.0.0", help="Interface to listen on."),  # noqa: S104
    port: int | None = typer.Option(None, help="Port (default: $PORT, else 8000)."),
    workers: int = typer.Option(
        int(os.environ.get("WEB_CONCURRENCY", "1")),
        help="Uvicorn worker processes (default: $WEB_CONCURRENCY, else 1).",
    ),
) -> None:
    """Run the webhook receiver under uvicorn."""
    settings = _settings_or_exit()
    configure_logging(settings)
    try:
        settings.webhook_secret_values()
        TrustedProxies.parse(settings.forwarded_allow_ips)
        build_broker(settings)
    except (ConfigurationError, ValueError) as exc:
        typer.echo(f"voicehook web: {exc}", err=True)
        raise typer.Exit(2) from None
    limits = edge_limits(settings)
    uvicorn.run(
        "receiver.app:served_app_from_environment",
        factory=True,
        host=host,
        port=port or settings.port,
        workers=workers,
        # A class (here, with its limits bound) rather than uvicorn's "httptools": see
        # receiver/http_limits.py. A partial pickles, so it reaches every worker process.
        http=cast(type[asyncio.Protocol], partial(GuardedHttpToolsProtocol, limits=limits)),
        timeout_keep_alive=settings.web_keepalive_timeout_seconds,
        proxy_headers=False,  # the app's own (receiver/forwarded.py)
        access_log=False,
        log_config=None,
        timeout_graceful_shutdown=20,
    )


def edge_limits(settings: Settings) -> EdgeLimits:
    """The per-connection limits of a web process, from settings and its descriptor limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and (hard == resource.RLIM_INFINITY or soft < hard):
        # Use what the system allows: the soft limit is often a shell's 1024.
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            soft = hard
    descriptors = soft if soft != resource.RLIM_INFINITY else 1 << 20
    return EdgeLimits(
        max_header_bytes=settings.web_max_header_bytes,
        header_timeout=settings.web_header_timeout_seconds,
        body_timeout=settings.web_body_timeout_seconds,
        max_connections=connection_bound(settings.web_max_connections, descriptors),
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
