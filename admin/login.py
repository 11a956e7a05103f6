"""`/admin/login` (one password field: the admin token) and `/admin/logout`."""

from __future__ import annotations

import math

import redis
import structlog
from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from admin.dashboard import Dashboard, actor
from admin.errors import BadQuery, FormTooLarge
from admin.forms import read_form
from admin.guard import forbidden, same_origin, unavailable
from admin.session import COOKIE, AdminSession, token_matches
from records.audit import AuditRecord

MAX_TOKEN_CHARS = 1024
log = structlog.get_logger(__name__)


class Login:
    def __init__(self, dashboard: Dashboard) -> None:
        self._d = dashboard

    async def form(self, request: Request) -> Response:
        try:
            signed_in = await self._d.guard.session(request) is not None
        except redis.RedisError:
            signed_in = False  # the form still shows; logging in will say what is down
        if signed_in:
            return RedirectResponse("/admin/", status_code=303)
        return self._d.render(request, "login.html", None)

    async def submit(self, request: Request) -> Response:
        try:
            return await self._submit(request)
        except SQLAlchemyError:
            log.exception("admin.login_database_error")
            return unavailable("the database does not answer (the login is audited there)")

    async def _submit(self, request: Request) -> Response:
        if not same_origin(request):
            return forbidden("this form came from another site")
        address = request.client.host if request.client else "unknown"
        wait = self._d.throttle.retry_after(address)
        if wait > 0:
            seconds = math.ceil(wait)
            refused = self._d.render(
                request,
                "login.html",
                None,
                status_code=429,
                error=f"Too many failed logins: try again in {seconds} seconds.",
            )
            refused.headers["retry-after"] = str(seconds)
            return refused
        try:
            form = await read_form(request)
        except (BadQuery, FormTooLarge) as exc:
            return self._d.render(request, "login.html", None, status_code=400, error=str(exc))
        given = form.get("token", "")
        if len(given) > MAX_TOKEN_CHARS or not token_matches(given, self._d.admin_token):
            self._d.throttle.failed(address)
            return self._d.render(
                request, "login.html", None, status_code=401, error="That is not the admin token."
            )
        self._d.throttle.succeeded(address)
        cookie, session = self._d.guard.signer.issue()
        await self._d.audit(AuditRecord(actor(request, session), "login", None, 0))
        response = RedirectResponse("/admin/", status_code=303)
        response.set_cookie(
            COOKIE,
            cookie,
            max_age=self._d.guard.signer.lifetime_seconds,
            path="/admin",
            secure=served_over_https(request),
            httponly=True,
            samesite="strict",
        )
        return response

    async def logout(self, request: Request, session: AdminSession, _: dict[str, str]) -> Response:
        await run_in_threadpool(self._d.guard.revocations.revoke, session.sid)
        await self._d.audit(AuditRecord(actor(request, session), "logout", None, 0))
        response = RedirectResponse("/admin/login", status_code=303)
        response.delete_cookie(COOKIE, path="/admin", httponly=True, samesite="strict")
        return response


def served_over_https(request: Request) -> bool:
    """Whether the browser reached us over HTTPS: directly, or through a router that ends
    TLS and says so in X-Forwarded-Proto. Believing the header unchecked is safe here: it can
    only add `Secure` to the cookie, never take it away."""
    forwarded = request.headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
    return request.url.scheme == "https" or forwarded == "https"
