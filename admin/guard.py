"""Who may see and do what: a valid session for every page, and for every POST its CSRF
token and the dashboard's own origin as well."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import redis
import structlog
from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response

from admin.errors import BadQuery, FormTooLarge
from admin.forms import read_form
from admin.revocations import Revocations
from admin.session import COOKIE, AdminSession, SessionSigner

log = structlog.get_logger(__name__)

LOGIN_PATH = "/admin/login"
CSRF_FIELD = "csrf"

Handler = Callable[[Request, AdminSession], Awaitable[Response]]
ActionHandler = Callable[[Request, AdminSession, dict[str, str]], Awaitable[Response]]


@dataclass(frozen=True)
class Guard:
    signer: SessionSigner
    revocations: Revocations

    async def session(self, request: Request) -> AdminSession | None:
        found = self.signer.read(request.cookies.get(COOKIE))
        if found is None:
            return None
        if await run_in_threadpool(self.revocations.revoked, found.sid):
            return None
        return found

    def page(self, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        """A GET that needs a session: without one, the login page (for htmx, a redirect it
        follows as a whole page)."""

        async def guarded(request: Request) -> Response:
            try:
                found = await self.session(request)
            except redis.RedisError:
                return unavailable("sessions are checked in Redis, which does not answer")
            if found is None:
                if request.headers.get("hx-request"):
                    return Response(status_code=401, headers={"hx-redirect": LOGIN_PATH})
                return RedirectResponse(LOGIN_PATH, status_code=303)
            return await answer(handler, request, found)

        return guarded

    def action(self, handler: ActionHandler) -> Callable[[Request], Awaitable[Response]]:
        """A POST: refused (403) without a session, from another origin, or without the
        session's CSRF token in its form; the handler gets the form's fields."""

        async def guarded(request: Request) -> Response:
            if not same_origin(request):
                return forbidden("this form came from another site")
            try:
                found = await self.session(request)
            except redis.RedisError:
                return unavailable("sessions are checked in Redis, which does not answer")
            if found is None:
                return forbidden("your session has ended: log in again")

            async def checked(request: Request, session: AdminSession) -> Response:
                form = await read_form(request)
                if not session.csrf_matches(form.pop(CSRF_FIELD, None)):
                    return forbidden("the form's CSRF token is missing or stale: reload the page")
                return await handler(request, session, form)

            return await answer(checked, request, found)

        return guarded


async def answer(handler: Handler, request: Request, session: AdminSession) -> Response:
    try:
        return await handler(request, session)
    except BadQuery as exc:
        return PlainTextResponse(f"bad request: {exc}", status_code=400)
    except FormTooLarge as exc:
        return PlainTextResponse(str(exc), status_code=413)
    except SQLAlchemyError:
        log.exception("admin.database_error")
        return unavailable("the database does not answer")
    except redis.RedisError:
        log.exception("admin.redis_error")
        return unavailable("Redis does not answer")


def same_origin(request: Request) -> bool:
    """A browser names the page a POST came from in Origin; it must be this dashboard. (A
    client that sends no Origin is no browser on another site: SameSite=Strict and the CSRF
    token still hold.)"""
    origin = request.headers.get("origin")
    if origin is None:
        return True
    host = request.headers.get("host", "")
    return origin in (f"http://{host}", f"https://{host}")


def forbidden(reason: str) -> Response:
    return PlainTextResponse(f"forbidden: {reason}", status_code=403)


def unavailable(reason: str) -> Response:
    return PlainTextResponse(f"unavailable: {reason}", status_code=503)
