"""The receiver's Starlette application, built from settings."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from functools import partial

from sqlalchemy import Engine
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from admin.app import admin_routes
from config.broker import (
    BatchingRedisBroker,
    build_broker,
    enqueue_clone,
    enqueue_events,
    enqueue_submissions,
    ping,
)
from config.database import is_sqlite, make_engine
from config.logging import configure_logging
from config.settings import Settings
from config.tracing import configure_tracing, tracing_enabled
from monitoring.gauges import queue_gauges
from receiver.committer import Committer
from receiver.forwarded import ForwardedFor, TrustedProxies
from receiver.group_commit import GroupCommitter
from receiver.health import MetricsEndpoint, Readiness, healthz
from receiver.inline_commit import InlineCommitter
from receiver.internal_api import InternalApi, http_error
from receiver.metrics import ReceiverMetrics
from receiver.request_context import RequestIdMiddleware
from receiver.traced import TracedWebhook
from receiver.webhook import WebhookEndpoint
from receiver.writer_pool import WriterPool

WEBHOOK_PATH = "/webhooks/voiceproductionai"
WEB_SERVICE = "voicehook-web"  # the traces' service name (OTEL_SERVICE_NAME overrides it)
POSTGRES_WRITERS = 2  # SQLite has one write lock, so one writer; PostgreSQL takes more

MakeCommitter = Callable[[Settings, Engine, BatchingRedisBroker, ReceiverMetrics], Committer]


def writer_processes(
    settings: Settings, engine: Engine, _: BatchingRedisBroker, metrics: ReceiverMetrics
) -> Committer:
    """Group commit through writer processes, which open their own engine and broker."""
    writers = WriterPool(
        settings,
        size=settings.ingest_writers or (1 if is_sqlite(engine) else POSTGRES_WRITERS),
        on_enqueue_failure=metrics.enqueue_failures.inc,
        on_restart=metrics.writer_restarts.inc,
    )
    return GroupCommitter(writers, max_batch=settings.ingest_max_batch)


def inline_commit(
    settings: Settings, engine: Engine, broker: BatchingRedisBroker, metrics: ReceiverMetrics
) -> Committer:
    """Group commit on a thread of this process, through the app's engine and broker."""
    return InlineCommitter(
        engine,
        partial(enqueue_events, broker),
        on_enqueue_failure=metrics.enqueue_failures.inc,
        max_batch=settings.ingest_max_batch,
    )


def create_app(
    settings: Settings,
    *,
    engine: Engine | None = None,
    broker: BatchingRedisBroker | None = None,
    make_committer: MakeCommitter | None = None,
) -> ASGIApp:
    """The receiver app. Refuses (ConfigurationError) to be built without a webhook secret.

    `engine` and `broker` serve readiness and the internal API. `make_committer` builds what
    commits the webhooks: writer processes by default (they open their own engine and
    broker, from `settings`), or `inline_commit` to run the whole app in one process — what
    `INGEST_INLINE` chooses when none is given.
    """
    settings.webhook_secret_values()
    engine = engine or make_engine(settings)
    broker = broker or build_broker(settings)
    metrics = ReceiverMetrics()
    if make_committer is None:
        make_committer = inline_commit if settings.ingest_inline else writer_processes
    committer = make_committer(settings, engine, broker, metrics)
    webhook: ASGIApp = WebhookEndpoint(settings, committer, metrics)
    if tracing_enabled():
        webhook = TracedWebhook(webhook)
    readiness = Readiness(engine, partial(ping, broker), lambda: committer.ready)
    internal_api = InternalApi(
        settings,
        engine,
        partial(enqueue_submissions, broker),
        partial(enqueue_clone, broker),
    )

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        # Long-lived startup objects leave the GC's young generations.
        gc.freeze()
        await committer.start()
        try:
            yield
        finally:
            await committer.stop()

    app = Starlette(
        routes=[
            Route("/healthz", healthz, methods=["GET"]),
            Route("/readyz", readiness.handle, methods=["GET"]),
            Route("/metrics", metrics_endpoint(settings, engine, metrics).handle, methods=["GET"]),
            *internal_api.routes(),
            *admin_routes(settings, engine, broker, metrics, internal_api.audio),
        ],
        middleware=[Middleware(RequestIdMiddleware)],
        exception_handlers={HTTPException: http_error},
        lifespan=lifespan,
    )
    # Starlette's trailing-slash redirect builds its Location from the request's Host header
    # (a redirect anywhere the client names); an unknown path is a 404 instead.
    app.router.redirect_slashes = False
    return WebhookFirst(webhook, app)


def metrics_endpoint(
    settings: Settings, engine: Engine, metrics: ReceiverMetrics
) -> MetricsEndpoint:
    """`/metrics`, with the queue gauges unless METRICS_QUEUE_GAUGES is false."""
    token = settings.metrics_token.get_secret_value() if settings.metrics_token else None
    gauges = [queue_gauges(settings, engine)] if settings.metrics_queue_gauges else []
    return MetricsEndpoint(metrics, *gauges, token=token)


class WebhookFirst:
    """Sends the webhook path straight to its endpoint; everything else to Starlette."""

    def __init__(self, webhook: ASGIApp, app: ASGIApp) -> None:
        self._webhook = webhook
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == WEBHOOK_PATH:
            await self._webhook(scope, receive, send)
        else:
            await self._app(scope, receive, send)


def app_from_environment() -> ASGIApp:
    """Uvicorn factory (`receiver.app:app_from_environment --factory`): settings from the env."""
    settings = Settings()
    configure_logging(settings)
    configure_tracing(settings, WEB_SERVICE)
    return create_app(settings)


def served_app_from_environment() -> ASGIApp:
    """`voicehook web`'s factory: the receiver behind its own `X-Forwarded-For` handling
    (receiver/forwarded.py; uvicorn's takes the leftmost entry under `*`, and any text)."""
    settings = Settings()
    configure_logging(settings)
    configure_tracing(settings, WEB_SERVICE)
    return ForwardedFor(create_app(settings), TrustedProxies.parse(settings.forwarded_allow_ips))
