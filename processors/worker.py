"""A worker process's start-up, in one place: what a handler needs (`ProcessorContext`), how it
is built and installed, and the entry the Dramatiq CLI is pointed at.

Dramatiq binds an actor to the broker set when the actor's module is imported, so the order
is fixed: `python -m dramatiq processors.worker:start_worker processors.actors` makes each
worker process call `start_worker` first (settings, logging, broker, processing context — in
that order), and only then import the actors (`DRAMATIQ_ARGS`). The sweeper and the CLI build
a context of their own with `build_context`; only a worker process installs one.

Dramatiq calls `start_worker` after it has installed its stop-signal handlers, so that is
where they learn to drain once (`processors.drain`), before anything else of the start-up.
"""

from __future__ import annotations

import os
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
    schedule_notification,
    schedule_submission,
)
from config.database import make_engine
from config.errors import ConfigurationError
from config.logging import configure_logging
from config.redis_connection import redis_client
from config.settings import Settings, load_settings
from config.tracing import configure_tracing
from processors.adoption_policy import CLOCK_SLACK_SECONDS, MatchRules
from processors.budget import ApiBudget, BudgetPolicy, workspace_name
from processors.download import DEFAULT_PORTS, Deadline
from processors.drain import drain_once
from processors.errors import WorkerNotStarted
from processors.notify_delivery import Notifier, build_notifier
from processors.submission_gate import SubmissionGate
from processors.vpai import VpaiClient, api_http_client
from records.notify_endpoints import sync_env_endpoints
from records.outbox import publish_committed
from storage.build import open_store
from storage.protocol import ObjectStore

WORKER_SERVICE = "voicehook-worker"  # the traces' service name (OTEL_SERVICE_NAME overrides it)

# What the Dramatiq CLI is given: the start-up callable first, then the actor modules.
DRAMATIQ_ARGS = ("processors.worker:start_worker", "processors.actors")


@dataclass
class ProcessorContext:
    """Engine, API client, download client, object store and the knobs handlers read."""

    engine: Engine
    api: VpaiClient
    downloads: httpx.Client
    audio_dir: Path  # the local scratch folder of downloads (and the local store's root)
    store: ObjectStore  # where audio and voice samples are kept
    allowed_hosts: frozenset[str]
    max_download_bytes: int
    max_attempts: int
    retry_backoff: list[float] = field(default_factory=list)
    download_deadline: Deadline = field(default_factory=Deadline)
    # Waits between failed downloads of one generation; one failure more fails it.
    download_backoff: list[float] = field(default_factory=lambda: [5.0, 30.0, 120.0, 300.0])
    event_lease_seconds: float = 600.0
    reconcile_after_seconds: float = 600.0
    reconcile_max_polls: int = 6
    adoption: MatchRules = field(default_factory=lambda: MatchRules(17.0, 120.0))
    # One POST /v1/generations in flight per workspace (None: no gate, e.g. no Redis).
    submission_gate: SubmissionGate | None = None
    # Set by `start_worker`: enqueue a job's submission after a delay (seconds).
    schedule_submission: Callable[[str, float], None] = field(default=lambda job_id, delay: None)
    # Set by `start_worker`: delivers notifications to the business's app.
    notifier: Notifier | None = None


def allowed_download_hosts(settings: Settings) -> frozenset[str]:
    """The API's own host on exactly its port, plus DOWNLOAD_ALLOWED_HOSTS.

    `http://127.0.0.1:19110/v1` allows `127.0.0.1:19110` only (the bare host also allowed
    port 80); `https://api.example.com/v1` allows `api.example.com:443`.
    """
    api = urlsplit(settings.vpai_api_base_url)
    hosts = {host.strip().lower() for host in settings.download_allowed_hosts if host.strip()}
    if api.hostname:
        port = api.port or DEFAULT_PORTS.get(api.scheme)
        host = api.hostname.lower()
        host = f"[{host}]" if ":" in host else host
        hosts.add(f"{host}:{port}" if port else host)
    return frozenset(hosts)


def build_context(settings: Settings, engine: Engine | None = None) -> ProcessorContext:
    if settings.vpai_api_key is None or not settings.vpai_api_key.get_secret_value().strip():
        raise ConfigurationError("VPAI_API_KEY is not set: workers cannot call the API.")
    if not settings.redis_url:
        raise ConfigurationError("REDIS_URL is not set: the API budget lives in Redis.")
    api_key = settings.vpai_api_key.get_secret_value()
    workspace = workspace_name(settings, api_key)
    rules = adoption_rules(settings)
    budget = ApiBudget(
        redis_client(settings.redis_url),
        workspace,
        BudgetPolicy(
            settings.vpai_rate_limit,
            settings.vpai_rate_window_seconds,
            settings.vpai_rate_margin_seconds,
        ),
    )
    http = api_http_client(settings.vpai_api_base_url, api_key, settings.vpai_timeout_seconds)
    return ProcessorContext(
        # No pre-ping: a worker runs a transaction or two per event, and the ping was a round
        # trip more for each (9% of a drained event's database time); a dropped connection
        # postpones one event instead (`config.database.make_engine`).
        engine=engine or make_engine(settings, pre_ping=False),
        api=VpaiClient(http, budget, max_budget_wait_seconds=settings.vpai_budget_wait_seconds),
        downloads=httpx.Client(timeout=settings.download_timeout_seconds, follow_redirects=False),
        audio_dir=settings.audio_dir,
        store=open_store(settings),
        allowed_hosts=allowed_download_hosts(settings),
        download_deadline=Deadline(
            settings.download_deadline_seconds, settings.download_min_bytes_per_second
        ),
        max_download_bytes=settings.download_max_bytes,
        max_attempts=settings.job_max_attempts,
        retry_backoff=list(settings.job_retry_backoff_seconds),
        download_backoff=list(settings.download_retry_backoff_seconds),
        reconcile_after_seconds=settings.reconcile_after_seconds,
        reconcile_max_polls=settings.reconcile_max_polls,
        event_lease_seconds=settings.event_lease_seconds,
        adoption=rules,
        submission_gate=SubmissionGate(
            redis_client(settings.redis_url), workspace, gate_hold_seconds(rules)
        ),
    )


def gate_hold_seconds(rules: MatchRules) -> float:
    """Past its holder's window (and a whole second more than the slack on each side), so
    the next submission's window never overlaps that of one whose worker died."""
    return rules.window_seconds + 2 * CLOCK_SLACK_SECONDS + 1.0


def adoption_rules(settings: Settings) -> MatchRules:
    """A live submission POSTs within one budget wait and answers within one timeout."""
    return MatchRules(
        window_seconds=settings.vpai_budget_wait_seconds + settings.vpai_timeout_seconds,
        lease_seconds=settings.submitting_lease_seconds,
    )


_context: ProcessorContext | None = None


def start_worker(settings: Settings | None = None) -> None:
    """Set the broker and install the context; the actor modules may be imported afterwards."""
    drain_once()
    settings = settings or load_settings()
    configure_logging(settings)
    configure_tracing(settings, WORKER_SERVICE)  # before the broker: it adds the trace middleware
    broker = build_broker(settings)
    if settings.worker_metrics_port is not None and os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # Imported here, in worker processes only: importing Dramatiq's Prometheus module
        # creates its metrics folder, which the sweeper, web and CLI (importing this
        # module for `build_context`) have no use for.
        from processors.message_metrics import MessageMetrics  # noqa: PLC0415

        broker.add_middleware(MessageMetrics())
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
