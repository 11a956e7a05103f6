"""The dashboard's pages: every GET, each a read (no GET changes anything)."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from admin import params
from admin.dashboard import Dashboard
from admin.errors import BadQuery
from admin.overview import gather
from admin.session import AdminSession
from records.audit import audit_page
from records.dashboard_counts import COUNT_CAP
from records.dashboard_pages import (
    customers_page,
    delivery_body,
    event_job_id,
    events_page,
    jobs_page,
    voices_page,
)
from records.event_reads import first_body, show_event
from records.job_repo import find_job, job_document
from records.jobs import TERMINAL_JOB_STATES
from records.types import utcnow

# Notices an action's redirect may name (`?notice=`): fixed texts, so no text is reflected.
NOTICES = {
    "reprocessed": "Queued for reprocessing.",
    "not_reprocessed": "Not reprocessed: a worker holds it now, or its body was pruned.",
    "resumed": "Resumed: the job waits for a submission.",
    "retried": "Retried: the job waits for a new attempt.",
    "refused": "Nothing done: the job is not in a state this action applies to.",
    "queue_down": "Stored, but Redis refused the message: the sweeper will enqueue it.",
}


def _query(request: Request) -> dict[str, str]:
    params.check_query_string(request.scope.get("query_string", b""))
    return dict(request.query_params)


def _notice(request: Request) -> str | None:
    return NOTICES.get(request.query_params.get("notice", ""))


class Pages:
    def __init__(self, dashboard: Dashboard) -> None:
        self._d = dashboard

    async def overview(self, request: Request, session: AdminSession) -> Response:
        d = self._d
        page = await run_in_threadpool(gather, d.engine, d.redis, d.budget, d.refusals)
        name = "_overview_body.html" if request.headers.get("hx-request") else "overview.html"
        return d.render(request, name, session, page=page, cap=COUNT_CAP, nav="overview")

    async def events(self, request: Request, session: AdminSession) -> Response:
        query = _query(request)
        selection = params.event_query(query, utcnow())
        limit = params.page_size(query)
        key = params.page_key(query)
        page = await run_in_threadpool(events_page, self._d.engine, selection, key, limit)
        live = key is None  # the first page follows new events; later pages stay still
        name = "_events_rows.html" if request.headers.get("hx-request") else "events.html"
        return self._d.render(
            request, name, session, page=page, query=query, live=live, nav="events"
        )

    async def event(self, request: Request, session: AdminSession) -> Response:
        event_id = params.path_id(request.path_params, "event_id")
        event = await run_in_threadpool(show_event, self._d.engine, event_id)
        if event is None:
            return _not_found(f"no event {event_id}")
        body = await run_in_threadpool(first_body, self._d.engine, event_id)
        job_id = await run_in_threadpool(event_job_id, self._d.engine, event["resourceId"])
        return self._d.render(
            request,
            "event.html",
            session,
            event=event,
            body=_pretty(body),
            job_id=job_id,
            notice=_notice(request),
            nav="events",
        )

    async def delivery_body(self, request: Request, _: AdminSession) -> Response:
        """The exact bytes, as a download: never rendered by the browser (nosniff, attachment)."""
        event_id = params.path_id(request.path_params, "event_id")
        raw_id = int(request.path_params["delivery_id"])
        if raw_id >= 2**63:  # no such row: past the range of the id's column
            return _not_found("no such delivery")
        body = await run_in_threadpool(delivery_body, self._d.engine, event_id, raw_id)
        if body is None:
            return _not_found("no such delivery, or its body was pruned")
        return Response(
            body,
            media_type="application/octet-stream",
            headers={"content-disposition": f'attachment; filename="delivery-{raw_id}.json"'},
        )

    async def jobs(self, request: Request, session: AdminSession) -> Response:
        query = _query(request)
        selection = params.job_query(query)
        limit = params.page_size(query)
        key = params.page_key(query)
        page = await run_in_threadpool(jobs_page, self._d.engine, selection, key, limit)
        name = "_jobs_rows.html" if request.headers.get("hx-request") else "jobs.html"
        return self._d.render(
            request, name, session, page=page, query=query, live=key is None, nav="jobs"
        )

    async def job(self, request: Request, session: AdminSession) -> Response:
        job_id = params.path_id(request.path_params, "job_id")
        document = await run_in_threadpool(job_document, self._d.engine, job_id)
        job = await run_in_threadpool(find_job, self._d.engine, job_id)
        if document is None or job is None:
            return _not_found(f"no job {job_id}")
        name = "_job_state.html" if request.headers.get("hx-request") else "job.html"
        return self._d.render(
            request,
            name,
            session,
            job=document,
            script=job.script,
            settled=job.status in TERMINAL_JOB_STATES,
            notice=_notice(request),
            nav="jobs",
        )

    async def job_audio(self, request: Request, _: AdminSession) -> Response:
        """`GET /api/jobs/{id}/audio`'s answer, authenticated by the session instead of the
        bearer token (which never reaches the page)."""
        params.path_id(request.path_params, "job_id")
        return await self._d.audio.handle(request)

    async def customers(self, request: Request, session: AdminSession) -> Response:
        query = _query(request)
        limit = params.page_size(query)
        key = params.page_key(query)
        voice_key = params.page_key({"after": query.get("voices_after", "")})
        customers = await run_in_threadpool(customers_page, self._d.engine, key, limit)
        voices = await run_in_threadpool(voices_page, self._d.engine, voice_key, limit)
        return self._d.render(
            request,
            "customers.html",
            session,
            customers=customers,
            voices=voices,
            query=query,
            nav="customers",
        )

    async def audit(self, request: Request, session: AdminSession) -> Response:
        query = _query(request)
        limit = params.page_size(query)
        raw = query.get("before", "")
        if raw and not (raw.isdigit() and len(raw) < 19):
            raise BadQuery("before must be an audit entry's number")
        entries = await run_in_threadpool(
            audit_page, self._d.engine, int(raw) if raw else None, limit
        )
        older = entries[-1].id if len(entries) == limit else None
        return self._d.render(
            request, "audit.html", session, entries=entries, older=older, nav="audit"
        )


def _not_found(reason: str) -> Response:
    return PlainTextResponse(f"not found: {reason}", status_code=404)


def _pretty(body: bytes | None) -> dict[str, Any] | None:
    """The body for reading: indented when it is JSON, else its text (always escaped by the
    template, as it is attacker-influenced)."""
    if body is None:
        return None
    try:
        text = orjson.dumps(orjson.loads(body), option=orjson.OPT_INDENT_2).decode()
        return {"text": text, "json": True, "size": len(body)}
    except orjson.JSONDecodeError:
        return {"text": body.decode("utf-8", errors="replace"), "json": False, "size": len(body)}
