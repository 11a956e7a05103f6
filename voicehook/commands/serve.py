"""`voicehook web` and `voicehook sweeper`: the long-running processes of the Procfile."""

from __future__ import annotations

import os
import signal
import threading
from functools import partial
from types import FrameType

import typer
import uvicorn

from config.broker import build_broker, enqueue_events
from config.database import make_engine
from config.errors import ConfigurationError
from config.logging import configure_logging
from config.settings import Settings
from receiver.sweeper import sweep_until_stopped


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
        build_broker(settings)
    except ConfigurationError as exc:
        typer.echo(f"voicehook web: {exc}", err=True)
        raise typer.Exit(2) from None
    uvicorn.run(
        "receiver.app:app_from_environment",
        factory=True,
        host=host,
        port=port or settings.port,
        workers=workers,
        proxy_headers=True,
        forwarded_allow_ips=",".join(settings.forwarded_allow_ips),
        access_log=False,
        log_config=None,
        timeout_graceful_shutdown=20,
    )


def sweeper() -> None:
    """Re-enqueue events that were committed but never enqueued (safe to run several)."""
    settings = _settings_or_exit()
    configure_logging(settings)
    try:
        broker = build_broker(settings)
    except ConfigurationError as exc:
        typer.echo(f"voicehook sweeper: {exc}", err=True)
        raise typer.Exit(2) from None
    stop = threading.Event()

    def _stop(signum: int, _: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    sweep_until_stopped(
        make_engine(settings),
        partial(enqueue_events, broker),
        stop,
        interval_seconds=settings.sweeper_interval_seconds,
        min_age_seconds=settings.sweeper_min_age_seconds,
        limit=settings.sweeper_batch_size,
    )
