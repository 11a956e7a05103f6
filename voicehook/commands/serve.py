"""`voicehook web` and `voicehook sweeper`: the long-running processes of the Procfile."""

from __future__ import annotations

import asyncio
import contextlib
import resource
from functools import partial
from typing import cast

import typer
import uvicorn

from config.broker import build_broker
from config.errors import ConfigurationError
from config.logging import configure_logging
from config.settings import Settings, load_settings
from receiver.forwarded import TrustedProxies
from receiver.http_limits import EdgeLimits, GuardedHttpToolsProtocol, connection_bound
from sweeper.main import run_sweeper

WORKER_HEALTHCHECK_SECONDS = 60


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
        TrustedProxies.parse(settings.forwarded_allow_ips)
        build_broker(settings)
    except ConfigurationError as exc:
        typer.echo(f"voicehook web: {exc}", err=True)
        raise typer.Exit(2) from None
    limits = edge_limits(settings)
    uvicorn.run(
        "receiver.app:served_app_from_environment",
        factory=True,
        host=host,
        port=port or settings.port,
        workers=workers or settings.web_concurrency,
        # A class (here, with its limits bound) rather than uvicorn's "httptools": see
        # receiver/http_limits.py. A partial pickles, so it reaches every worker process.
        http=cast(type[asyncio.Protocol], partial(GuardedHttpToolsProtocol, limits=limits)),
        timeout_keep_alive=settings.web_keepalive_timeout_seconds,
        proxy_headers=False,  # the app's own (receiver/forwarded.py)
        access_log=False,
        log_config=None,
        timeout_graceful_shutdown=20,
        # With WEB_CONCURRENCY > 1 uvicorn restarts a worker process that has not answered
        # its health ping in this long; its 5 s default killed every worker of a web process
        # still importing the app on a loaded machine, over and over.
        timeout_worker_healthcheck=WORKER_HEALTHCHECK_SECONDS,
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
        run_sweeper(settings)
    except ConfigurationError as exc:
        typer.echo(f"voicehook sweeper: {exc}", err=True)
        raise typer.Exit(2) from None
