"""The dashboard as routes for the receiver's app: `/admin/...`, its static files, its headers."""

from __future__ import annotations

from functools import partial
from pathlib import Path

from sqlalchemy import Engine
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route, Router
from starlette.staticfiles import StaticFiles
from starlette.types import Receive, Scope, Send

from admin.actions import Actions
from admin.dashboard import Dashboard, templates
from admin.guard import Guard
from admin.login import Login
from admin.login_throttle import LoginThrottle
from admin.overview import BudgetSource
from admin.pages import Pages
from admin.revocations import Revocations
from admin.security import SecurityHeaders, content_security_policy, media_origins
from admin.session import SessionSigner
from config.broker import BatchingRedisBroker, enqueue_events, enqueue_submissions
from config.settings import Settings
from processors.budget import BudgetPolicy, workspace_name
from receiver.audio_delivery import AudioDelivery
from receiver.metrics import ReceiverMetrics

STATIC = Path(__file__).parent / "static"


def admin_routes(
    settings: Settings,
    engine: Engine,
    broker: BatchingRedisBroker,
    metrics: ReceiverMetrics,
    audio: AudioDelivery,
) -> list[BaseRoute]:
    """`/admin` and everything under it; without ADMIN_TOKEN, a page saying how to enable it."""
    token = settings.admin_token.get_secret_value() if settings.admin_token else ""
    policy = content_security_policy(media_origins(settings.storage_url, settings.s3_endpoint_url))
    if not token.strip():
        app = SecurityHeaders(_disabled, policy)
    else:
        dashboard = _dashboard(settings, token, engine, broker=broker, metrics=metrics, audio=audio)
        app = SecurityHeaders(_router(dashboard), policy)
    return [
        Route("/admin", lambda _: RedirectResponse("/admin/", status_code=308), methods=["GET"]),
        Mount("/admin", app=app),
    ]


def _dashboard(
    settings: Settings,
    token: str,
    engine: Engine,
    *,
    broker: BatchingRedisBroker,
    metrics: ReceiverMetrics,
    audio: AudioDelivery,
) -> Dashboard:
    key = settings.vpai_api_key.get_secret_value().strip() if settings.vpai_api_key else ""
    lifetime = settings.admin_session_seconds
    return Dashboard(
        engine=engine,
        redis=broker.client,
        enqueue_events=partial(enqueue_events, broker),
        enqueue_submissions=partial(enqueue_submissions, broker),
        guard=Guard(SessionSigner(token, lifetime), Revocations(broker.client, lifetime)),
        throttle=LoginThrottle(),
        admin_token=token,
        budget=BudgetSource(
            workspace_name(settings, key) if key or settings.vpai_workspace else None,
            BudgetPolicy(
                settings.vpai_rate_limit,
                settings.vpai_rate_window_seconds,
                settings.vpai_rate_margin_seconds,
            ),
        ),
        refusals=metrics.refusals,
        audio=audio,
        templates=templates(),
    )


def _router(d: Dashboard) -> Router:
    pages, actions, login, guard = Pages(d), Actions(d), Login(d), d.guard
    get, post = ["GET"], ["POST"]
    routes = [
        Route("/login", login.form, methods=get),
        Route("/login", login.submit, methods=post),
        Route("/logout", guard.action(login.logout), methods=post),
        Route("/", guard.page(pages.overview), methods=get),
        Route("/events", guard.page(pages.events), methods=get),
        Route("/events/{event_id}", guard.page(pages.event), methods=get),
        Route(
            "/events/{event_id}/deliveries/{delivery_id:int}/body",
            guard.page(pages.delivery_body),
            methods=get,
        ),
        Route("/events/{event_id}/reprocess", guard.action(actions.reprocess_event), methods=post),
        Route("/events/{event_id}/export", guard.action(actions.export_event), methods=post),
        Route("/jobs", guard.page(pages.jobs), methods=get),
        Route("/jobs/{job_id}", guard.page(pages.job), methods=get),
        Route("/jobs/{job_id}/audio", guard.page(pages.job_audio), methods=get),
        Route("/jobs/{job_id}/resume", guard.action(actions.resume_job), methods=post),
        Route("/jobs/{job_id}/retry", guard.action(actions.retry_job), methods=post),
        Route("/bulk/reprocess-events", guard.action(actions.bulk_reprocess), methods=post),
        Route("/bulk/resume-jobs", guard.action(actions.bulk_resume), methods=post),
        Route("/customers", guard.page(pages.customers), methods=get),
        Route("/audit", guard.page(pages.audit), methods=get),
        Mount("/static", app=StaticFiles(directory=STATIC), name="static"),
    ]
    router = Router(routes)
    router.redirect_slashes = False
    return router


async def _disabled(scope: Scope, receive: Receive, send: Send) -> None:
    response: Response = PlainTextResponse(
        "the dashboard is disabled: set ADMIN_TOKEN to enable it", status_code=503
    )
    await response(scope, receive, send)
