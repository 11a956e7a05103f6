"""The internal API's jobs: accept (idempotently), read, list, retry and resume.

Jobs are accepted at once (202) and submitted by the workers within the API budget, so a
burst of any size is taken without a single request to the upstream on this path.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import structlog
from sqlalchemy import Connection, Engine
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from config.broker import EnqueueIds
from config.errors import BrokerUnavailable
from receiver.api_support import (
    answer_response,
    idempotency_claim,
    key_reused,
    parse_body,
)
from receiver.errors import InvalidListParameter
from receiver.job_intake import new_job
from receiver.job_requests import JobRequest
from receiver.list_params import (
    page_response,
    read_choice,
    read_cursor,
    read_limit,
    read_since,
    read_text,
    refuse_unknown,
)
from receiver.responses import api_error, document_or_404, json_response
from records import job_repo
from records.errors import DuplicateExternalRef, IdempotencyKeyReused, UnknownCustomer
from records.idempotency import Answer, answer_once
from records.jobs import JobStatus
from voicehook.ops.job_actions import JobActionResult, Outcome, resume_jobs, retry_jobs

log = structlog.get_logger(__name__)

CREATE_JOB = "POST /api/jobs"
JobActionFn = Callable[[Engine, Sequence[str], EnqueueIds], JobActionResult]
STATUSES = frozenset(status.value for status in JobStatus)
JOB_FILTERS = ("customer", "status", "since")


def job_location(job_id: str) -> str:
    return f"/api/jobs/{job_id}"


class JobsApi:
    def __init__(self, engine: Engine, enqueue: EnqueueIds, max_attempts: int) -> None:
        self._engine = engine
        self._enqueue = enqueue
        self._max_attempts = max_attempts

    async def create(self, request: Request) -> Response:
        parsed = await parse_body(request, JobRequest)
        if isinstance(parsed, Response):
            return parsed
        claim = idempotency_claim(request, CREATE_JOB, parsed.sha256)
        if isinstance(claim, Response):
            return claim
        wanted = new_job(parsed.value, self._max_attempts)

        def insert(conn: Connection) -> Answer:
            job = job_repo.insert_job(conn, wanted)
            body = {"id": job.id, "status": job.status, "externalRef": job.external_ref}
            return Answer(202, body, job_location(job.id))

        try:
            answer, replayed = await run_in_threadpool(answer_once, self._engine, claim, insert)
        except UnknownCustomer as exc:
            return api_error(404, "not_found", f"no customer {exc}")
        except DuplicateExternalRef as exc:
            return json_response(
                409,
                {"error": "duplicate_external_ref", "detail": str(exc), "jobId": exc.job_id},
                {"location": job_location(exc.job_id)},
            )
        except IdempotencyKeyReused as exc:
            return key_reused(exc)
        if not replayed:
            await self._submit([str(answer.body["id"])])
        return answer_response(answer, replayed)

    async def show(self, request: Request) -> Response:
        job_id = request.path_params["job_id"]
        document = await run_in_threadpool(job_repo.job_document, self._engine, job_id)
        return document_or_404(document, "job", job_id)

    async def list(self, request: Request) -> Response:
        query = request.query_params
        try:
            refuse_unknown(query, JOB_FILTERS)
            where = job_repo.JobFilter(
                customer=read_text(query, "customer"),
                status=read_choice(query, "status", STATUSES),
                since=read_since(query),
            )
            after, limit = read_cursor(query), read_limit(query)
        except InvalidListParameter as exc:
            return api_error(400, "invalid_parameter", str(exc))
        page = await run_in_threadpool(job_repo.page_jobs, self._engine, where, after, limit)
        return page_response(page)

    async def retry(self, request: Request) -> Response:
        return await self._act(request, retry_jobs)

    async def resume(self, request: Request) -> Response:
        return await self._act(request, resume_jobs)

    async def _act(self, request: Request, action: JobActionFn) -> Response:
        """One job through a job action: 202 with the CLI's result, 404, or 409 and why."""
        job_id = request.path_params["job_id"]
        result = await run_in_threadpool(action, self._engine, [job_id], self._enqueue)
        (outcome,) = result.outcomes
        if outcome.outcome is Outcome.NOT_FOUND:
            return api_error(404, "not_found", outcome.reason)
        if outcome.outcome is Outcome.REFUSED:
            return api_error(409, "not_allowed", outcome.reason)
        return json_response(202, result.document(), {"location": job_location(job_id)})

    async def _submit(self, job_ids: Sequence[str]) -> None:
        try:
            await run_in_threadpool(self._enqueue, job_ids)
        except BrokerUnavailable as exc:
            # The job is stored; the sweeper submits pending jobs the broker never got.
            log.warning("internal_api.enqueue_failed", job_ids=list(job_ids), error=str(exc))
