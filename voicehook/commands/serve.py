"""`voicehook web` and `voicehook sweeper`: the long-running processes of the Procfile."""

from __future__ import annotations

import typer
import uvicorn

from config.broker import build_broker
from config.errors import ConfigurationError
from config.logging import configure_logging
from config.settings import Settings, load_settings
from sweeper.main import run_sweeper


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
        run_sweeper(settings)
    except ConfigurationError as exc:
        typer.echo(f"voicehook sweeper: {exc}", err=True)
        raise typer.Exit(2) from None
