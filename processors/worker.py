"""A worker process's start-up, in one place: what a handler needs (`ProcessorContext`), how it
is built and installed, and the entry the Dramatiq CLI is pointed at.

Dramatiq binds an actor to the broker set when the actor's module is imported, so the order
is fixed: `python -m dramatiq processors.worker:start_worker processors.actors` makes each
worker process call `start_worker` first (settings, logging, broker, processing context — in
that order), and only then import the actors (`DRAMATIQ_ARGS`). The sweeper and the CLI build
a context of their own with `build_context`; only a worker process installs one.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from sqlalchemy import Engine

from config.broker import (
    build_broker,
    enqueue_notifications,
    redis_client,
    schedule_notification,
    schedule_submission,
)
from config.database import make_engine
from config.errors import ConfigurationError
from config.logging import configure_logging
from config.settings import Settings
from processors.budget import ApiBudget, BudgetPolicy
from processors.errors import WorkerNotStarted
from processors.notify_delivery import Notifier, build_notifier
from processors.vpai import VpaiClient, api_http_client
from records.notify_endpoints import sync_env_endpoints
from records.outbox import publish_committed

# What the Dramatiq CLI is given: the start-up callable first, then the actor modules.
DRAMATIQ_ARGS = ("processors.worker:start_worker", "processors.actors")


@dataclass
class ProcessorContext:
    """Engine, API client, download client and the knobs handlers read."""

    engine: Engine
    api: VpaiClient
    downloads: httpx.Client
    audio_dir: Path
    allowed_hosts: frozenset[str]
    max_download_bytes: int
    max_attempts: int
    retry_backoff: list[float] = field(default_factory=list)
    download_tries: int = 3
    event_lease_seconds: float = 600.0
    reconcile_after_seconds: float = 600.0
    # Set by `start_worker`: enqueue a job's submission after a delay (seconds).
    schedule_submission: Callable[[str, float], None] = field(default=lambda job_id, delay: None)
    # Set by `start_worker`: delivers notifications to the business's app.
    notifier: Notifier | None = None


def workspace_name(settings: Settings, api_key: str) -> str:
    """The budget's key: configured, or a fingerprint of the API key (never the key itself)."""
    if settings.vpai_workspace:
        return settings.vpai_workspace
    return "key-" + hashlib.sha256(api_key.encode()).hexdigest()[:16]


def allowed_download_hosts(settings: Settings) -> frozenset[str]:
    """The API's own host (with its port, if any) plus DOWNLOAD_ALLOWED_HOSTS."""
    api = urlsplit(settings.vpai_api_base_url)
    hosts = {host.strip().lower() for host in settings.download_allowed_hosts if host.strip()}
    if api.hostname:
        hosts.add(api.netloc.lower().rsplit("@", 1)[-1])
        hosts.add(api.hostname.lower())
    return frozenset(hosts)


def build_context(settings: Settings, engine: Engine | None = None) -> ProcessorContext:
    if settings.vpai_api_key is None or not settings.vpai_api_key.get_secret_value().strip():
        raise ConfigurationError("VPAI_API_KEY is not set: workers cannot call the API.")
    if not settings.redis_url:
        raise ConfigurationError("REDIS_URL is not set: the API budget lives in Redis.")
    api_key = settings.vpai_api_key.get_secret_value()
    budget = ApiBudget(
        redis_client(settings.redis_url),
        workspace_name(settings, api_key),
        BudgetPolicy(
            settings.vpai_rate_limit,
            settings.vpai_rate_window_seconds,
            settings.vpai_rate_margin_seconds,
        ),
    )
    http = api_http_client(settings.vpai_api_base_url, api_key, settings.vpai_timeout_seconds)
    return ProcessorContext(
        engine=engine or make_engine(settings),
        api=VpaiClient(http, budget),
        downloads=httpx.Client(timeout=settings.download_timeout_seconds, follow_redirects=False),
        audio_dir=settings.audio_dir,
        allowed_hosts=allowed_download_hosts(settings),
        max_download_bytes=settings.download_max_bytes,
        max_attempts=settings.job_max_attempts,
        retry_backoff=list(settings.job_retry_backoff_seconds),
        reconcile_after_seconds=settings.reconcile_after_seconds,
        event_lease_seconds=settings.event_lease_seconds,
    )


_context: ProcessorContext | None = None


def start_worker(settings: Settings | None = None) -> None:
    """Set the broker and install the context; the actor modules may be imported afterwards."""
    settings = settings or Settings()
    configure_logging(settings)
    broker = build_broker(settings)
    context = build_context(settings)
    context.schedule_submission = partial(schedule_submission, broker)
    context.notifier = build_notifier(settings, context.engine)
    context.notifier.schedule = partial(schedule_notification, broker)
    sync_env_endpoints(context.engine, settings.notify_urls)
    # Deliveries committed by this process's handlers are enqueued as soon as they commit.
    publish_committed(context.engine, partial(enqueue_notifications, broker))
    install_context(context)


def install_context(context: ProcessorContext) -> None:
    global _context  # noqa: PLW0603 - one per process, set once before any message runs
    _context = context


def current_context() -> ProcessorContext:
    if _context is None:
        raise WorkerNotStarted("the worker's processing context was not installed")
    return _context
