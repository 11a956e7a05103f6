"""The receiver's Starlette application, built from settings."""

from __future__ import annotations

import gc
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial

from sqlalchemy import Engine
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

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
from receiver.health import MetricsEndpoint, Readiness, healthz
from receiver.ingest import GroupCommitter
from receiver.internal_api import InternalApi
from receiver.metrics import ReceiverMetrics
from receiver.request_context import RequestIdMiddleware
from receiver.webhook import WebhookEndpoint
from records.event_store import EventStore

WEBHOOK_PATH = "/webhooks/voiceproductionai"
POSTGRES_COMMITS_IN_FLIGHT = 4


def create_app(
    settings: Settings,
    *,
    engine: Engine | None = None,
    broker: BatchingRedisBroker | None = None,
) -> ASGIApp:
    """The receiver app. Refuses (ConfigurationError) to be built without a webhook secret."""
    settings.webhook_secret_values()
    engine = engine or make_engine(settings)
    broker = broker or build_broker(settings)
    metrics = ReceiverMetrics()
    committer = GroupCommitter(
        EventStore(engine),
        partial(enqueue_events, broker),
        max_batch=settings.ingest_max_batch,
        on_enqueue_failure=metrics.enqueue_failures.inc,
        concurrency=1 if is_sqlite(engine) else POSTGRES_COMMITS_IN_FLIGHT,
    )
    webhook = WebhookEndpoint(settings, committer, metrics)
    readiness = Readiness(engine, partial(ping, broker))
    internal_api = InternalApi(
        settings,
        engine,
        partial(enqueue_submissions, broker),
        partial(enqueue_clone, broker),
    )

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        # Hand the GIL to the commit thread quickly; long-lived startup objects leave the GC.
        sys.setswitchinterval(0.0005)
        gc.freeze()
        committer.start()
        try:
            yield
        finally:
            await committer.stop()

    app = Starlette(
        routes=[
            Route("/healthz", healthz, methods=["GET"]),
            Route("/readyz", readiness.handle, methods=["GET"]),
            Route("/metrics", MetricsEndpoint(metrics).handle, methods=["GET"]),
            *internal_api.routes(),
        ],
        middleware=[Middleware(RequestIdMiddleware)],
        lifespan=lifespan,
    )
    return WebhookFirst(webhook, app)


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
    return create_app(settings)
