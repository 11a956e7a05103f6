"""The dashboard's actions: each a POST behind the session and its CSRF token, each written
to the audit log, each through the same function as its `voicehook` command."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial

import orjson
from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from admin import params
from admin.dashboard import Dashboard, actor
from admin.errors import BadQuery
from admin.session import AdminSession
from config.broker import EnqueueIds
from config.errors import BrokerUnavailable
from records.audit import AuditRecord
from records.dashboard_counts import count_jobs
from records.event_reads import EventFilter
from records.jobs import JobStatus
from records.types import utcnow
from voicehook.errors import InvalidSelection, InvalidTimeSpec
from voicehook.ops.capture import capture_document
from voicehook.ops.export import DeliveryExport
from voicehook.ops.job_actions import JobActionResult, Outcome, resume_jobs, retry_jobs
from voicehook.ops.reprocess import ReprocessResult, reprocess
from voicehook.ops.selection import build_filter


def _see(path: str, notice: str) -> Response:
    return RedirectResponse(f"{path}?notice={notice}", status_code=303)


class Actions:
    def __init__(self, dashboard: Dashboard) -> None:
        self._d = dashboard

    async def reprocess_event(
        self, request: Request, session: AdminSession, _: dict[str, str]
    ) -> Response:
        event_id = params.path_id(request.path_params, "event_id")
        page = f"/admin/events/{event_id}"
        try:
            result = await self._reprocess(EventFilter(ids=(event_id,)))
        except BrokerUnavailable as exc:
            await self._audit(
                request, session, "reprocess_event", event_id, 0, outcome="failed", detail=str(exc)
            )
            return _see(page, "queue_down")
        await self._audit(request, session, "reprocess_event", event_id, len(result.requeued))
        return _see(page, "reprocessed" if result.requeued else "not_reprocessed")

    async def export_event(
        self, request: Request, session: AdminSession, _: dict[str, str]
    ) -> Response:
        """The event's deliveries as a capture file (JSONL), which `voicehook replay` takes."""
        event_id = params.path_id(request.path_params, "event_id")

        def lines() -> tuple[bytes, int]:
            export = DeliveryExport(self._d.engine, EventFilter(ids=(event_id,)))
            written = [orjson.dumps(capture_document(c)) + b"\n" for c in export]
            return b"".join(written), len(written)

        body, count = await run_in_threadpool(lines)
        await self._audit(request, session, "export_event", event_id, count)
        return Response(
            body,
            media_type="application/x-ndjson",
            headers={"content-disposition": f'attachment; filename="event-{event_id}.jsonl"'},
        )

    async def bulk_reprocess(
        self, request: Request, session: AdminSession, form: dict[str, str]
    ) -> Response:
        """Failed events (of a type, since a time): first the count to confirm, then done."""
        event_type = params.text(form, "type", params.EVENT_TYPE)
        since = params.text(form, "since", params.SINCE)
        try:
            selection = build_filter(now=utcnow(), failed=True, since=since, event_type=event_type)
        except (InvalidSelection, InvalidTimeSpec) as exc:
            raise BadQuery(str(exc)) from None
        described = _described(event_type, since)
        confirmed = _confirmed(form)
        if confirmed is None:
            dry = await self._reprocess(selection, dry_run=True)
            return self._d.render(
                request,
                "confirm.html",
                session,
                action="/admin/bulk/reprocess-events",
                what=f"Reprocess {len(dry.requeued)} failed events ({described})",
                count=len(dry.requeued),
                skipped=len(dry.skipped),
                fields={"type": event_type or "", "since": since or ""},
                back="/admin/",
            )
        try:
            result = await self._reprocess(selection)
        except BrokerUnavailable as exc:
            await self._audit(
                request, session, "bulk_reprocess", described, 0, outcome="failed", detail=str(exc)
            )
            return _see("/admin/", "queue_down")
        detail = f"confirmed {confirmed}, skipped {len(result.skipped)}"
        await self._audit(
            request, session, "bulk_reprocess", described, len(result.requeued), detail=detail
        )
        return self._d.render(
            request,
            "done.html",
            session,
            what=f"Requeued {len(result.requeued)} failed events ({described}); "
            f"{len(result.skipped)} skipped. You confirmed {confirmed}.",
        )

    async def bulk_resume(
        self, request: Request, session: AdminSession, form: dict[str, str]
    ) -> Response:
        """Every blocked job: first the count to confirm, then resumed."""
        confirmed = _confirmed(form)
        if confirmed is None:
            count = await run_in_threadpool(count_jobs, self._d.engine, JobStatus.BLOCKED.value)
            return self._d.render(
                request,
                "confirm.html",
                session,
                action="/admin/bulk/resume-jobs",
                what=f"Resume {count} blocked jobs",
                count=count,
                skipped=0,
                fields={},
                back="/admin/",
            )
        result = await self._jobs(resume_jobs, ())
        await self._audit_jobs(request, session, "bulk_resume", "all blocked jobs", result)
        return self._d.render(
            request,
            "done.html",
            session,
            what=f"Resumed {len(result.done)} blocked jobs. You confirmed {confirmed}."
            + ("" if result.enqueued else " Redis refused them: the sweeper will submit them."),
        )

    async def resume_job(
        self, request: Request, session: AdminSession, _: dict[str, str]
    ) -> Response:
        return await self._one_job(request, session, "resume_job", resume_jobs, "resumed")

    async def retry_job(
        self, request: Request, session: AdminSession, _: dict[str, str]
    ) -> Response:
        return await self._one_job(request, session, "retry_job", retry_jobs, "retried")

    async def _one_job(
        self,
        request: Request,
        session: AdminSession,
        action: str,
        act: JobAct,
        done_notice: str,
    ) -> Response:
        job_id = params.path_id(request.path_params, "job_id")
        result = await self._jobs(act, (job_id,))
        await self._audit_jobs(request, session, action, job_id, result)
        if not result.done:
            return _see(f"/admin/jobs/{job_id}", "refused")
        return _see(f"/admin/jobs/{job_id}", done_notice if result.enqueued else "queue_down")

    async def _jobs(self, act: JobAct, job_ids: Sequence[str]) -> JobActionResult:
        return await run_in_threadpool(act, self._d.engine, job_ids, self._d.enqueue_submissions)

    async def _reprocess(self, selection: EventFilter, dry_run: bool = False) -> ReprocessResult:
        run = partial(reprocess, dry_run=dry_run)
        return await run_in_threadpool(run, self._d.engine, selection, self._d.enqueue_events)

    async def _audit_jobs(
        self,
        request: Request,
        session: AdminSession,
        action: str,
        target: str,
        result: JobActionResult,
    ) -> None:
        refused = [o.reason for o in result.outcomes if o.outcome is not Outcome.DONE]
        detail = "; ".join(r for r in refused if r)[:500] or None
        if not result.enqueued:
            detail = ((detail or "") + " broker refused: left to the sweeper").strip()
        outcome = "done" if result.done else "refused"
        await self._audit(
            request, session, action, target, len(result.done), outcome=outcome, detail=detail
        )

    async def _audit(
        self,
        request: Request,
        session: AdminSession,
        action: str,
        target: str | None,
        count: int,
        *,
        outcome: str = "done",
        detail: str | None = None,
    ) -> None:
        who = actor(request, session)
        await self._d.audit(AuditRecord(who, action, target, count, outcome, detail))


JobAct = Callable[[Engine, Sequence[str], EnqueueIds], JobActionResult]


def _confirmed(form: dict[str, str]) -> int | None:
    raw = form.get("confirm", "")
    if not raw:
        return None
    if not raw.isdigit() or len(raw) > 9:
        raise BadQuery("confirm must be the count the confirmation page showed")
    return int(raw)


def _described(event_type: str | None, since: str | None) -> str:
    return f"type {event_type or 'any'}, since {since or 'ever'}"
