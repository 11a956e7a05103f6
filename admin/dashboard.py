"""What every page and action of the dashboard shares: stores, queues, templates, guard."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import redis
from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.templating import Jinja2Templates

from admin.guard import Guard
from admin.login_throttle import LoginThrottle
from admin.overview import BudgetSource
from admin.params import cursor
from admin.session import AdminSession
from config.broker import EnqueueIds
from receiver.audio_delivery import AudioDelivery
from receiver.outcome_tally import MinuteTally
from records.audit import AuditRecord, record_action

TEMPLATES = Path(__file__).parent / "templates"


@dataclass(frozen=True)
class Dashboard:
    engine: Engine
    redis: redis.Redis
    enqueue_events: EnqueueIds
    enqueue_submissions: EnqueueIds
    guard: Guard
    throttle: LoginThrottle
    admin_token: str
    budget: BudgetSource
    refusals: MinuteTally
    audio: AudioDelivery
    templates: Jinja2Templates

    def render(
        self,
        request: Request,
        name: str,
        session: AdminSession | None,
        status_code: int = 200,
        **context: Any,
    ) -> Response:
        context["csrf"] = session.csrf if session else ""
        context["signed_in"] = session is not None
        return self.templates.TemplateResponse(request, name, context, status_code=status_code)

    async def audit(self, record: AuditRecord) -> None:
        await run_in_threadpool(record_action, self.engine, record)


def actor(request: Request, session: AdminSession) -> str:
    """Who acted, as the audit log names them (one admin token: its session and address)."""
    address = request.client.host if request.client else "unknown"
    return f"admin (session {session.sid[:8]}) from {address}"


def templates() -> Jinja2Templates:
    found = Jinja2Templates(directory=TEMPLATES)  # autoescape is on for .html
    found.env.filters["cursor"] = cursor
    found.env.globals["iso"] = _iso
    found.env.globals["with_params"] = with_params
    return found


def with_params(query: dict[str, str], **changes: str) -> str:
    """The query string of a list's link: its filters, with `changes`, and no cursor of the
    page it is on (a link to the next page adds its own)."""
    kept = {k: v for k, v in query.items() if v and k not in ("after", "voices_after")}
    return urlencode(kept | changes)


def _iso(value: object) -> str:
    isoformat = getattr(value, "isoformat", None)
    return str(isoformat()) if callable(isoformat) else ""
