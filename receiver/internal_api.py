"""The internal API of the business's own app, behind `ADMIN_TOKEN`.

Jobs are accepted at once (202) and submitted by the workers within the API budget, so a
burst of any size is taken without a single request to the upstream on this path.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

import structlog
from pydantic import BaseModel, ValidationError
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from config.errors import BrokerUnavailable
from config.settings import Settings
from receiver.audio_delivery import AudioDelivery
from receiver.body import read_body_capped
from receiver.errors import BodyTooLarge, ClientGone
from receiver.job_intake import create_job
from receiver.job_requests import MAX_SAMPLE_BYTES, CloneRequest, CustomerRequest, JobRequest
from receiver.responses import json_response
from receiver.voice_intake import create_voice
from records.customer_repo import customer_document, upsert_customer
from records.errors import UnknownCustomer
from records.job_repo import job_document
from records.voice_repo import voice_document
from storage.build import open_store

log = structlog.get_logger(__name__)

ModelT = TypeVar("ModelT", bound=BaseModel)
MAX_BODY_BYTES = 64 * 1024  # a customer or a job (its script is at most 5,000 characters)
# Up to 10 samples of MAX_SAMPLE_BYTES, base64-encoded, and the rest of the document.
MAX_CLONE_BODY_BYTES = 10 * MAX_SAMPLE_BYTES * 4 // 3 + MAX_BODY_BYTES


class InternalApi:
    def __init__(
        self,
        settings: Settings,
        engine: Engine,
        enqueue_submissions: Callable[[Sequence[str]], None],
        enqueue_clone: Callable[[str], None],
    ) -> None:
        token = settings.admin_token.get_secret_value() if settings.admin_token else ""
        self._token = token.encode()
        self._engine = engine
        self._enqueue = enqueue_submissions
        self._enqueue_clone = enqueue_clone
        self._audio_dir = settings.audio_dir
        self._store = open_store(settings)
        self.audio = AudioDelivery(engine, self._store, settings.audio_url_lifetime_seconds)
        self._max_attempts = settings.job_max_attempts

    def routes(self) -> list[Route]:
        return [
            Route("/api/customers", self._guard(self.create_customer), methods=["POST"]),
            Route("/api/customers/{customer_id}", self._guard(self.show_customer), methods=["GET"]),
            Route("/api/jobs", self._guard(self.create_job), methods=["POST"]),
            Route("/api/jobs/{job_id}", self._guard(self.show_job), methods=["GET"]),
            Route("/api/jobs/{job_id}/audio", self._guard(self.audio.handle), methods=["GET"]),
            Route("/api/voices/clone", self._guard(self.clone_voice), methods=["POST"]),
            Route("/api/voices/{voice_id}", self._guard(self.show_voice), methods=["GET"]),
        ]

    def _guard(
        self, handler: Callable[[Request], Awaitable[Response]]
    ) -> Callable[[Request], Awaitable[Response]]:
        async def guarded(request: Request) -> Response:
            if not self._token:
                return json_response(
                    503, {"error": "admin_api_disabled", "detail": "set ADMIN_TOKEN"}
                )
            given = request.headers.get("authorization", "")
            scheme, _, token = given.partition(" ")
            if scheme.lower() != "bearer" or not hmac.compare_digest(token.encode(), self._token):
                return json_response(401, {"error": "unauthorized"})
            try:
                return await handler(request)
            except SQLAlchemyError:
                log.exception("internal_api.database_error")
                return json_response(503, {"error": "unavailable"})

        return guarded

    async def create_customer(self, request: Request) -> Response:
        parsed = await _parse(request, CustomerRequest)
        if isinstance(parsed, Response):
            return parsed
        customer, created = await run_in_threadpool(
            upsert_customer, self._engine, parsed.external_ref, parsed.name
        )
        return json_response(
            201 if created else 200,
            {"id": customer.id, "externalRef": customer.external_ref, "name": customer.name},
        )

    async def create_job(self, request: Request) -> Response:
        parsed = await _parse(request, JobRequest)
        if isinstance(parsed, Response):
            return parsed
        try:
            job = await run_in_threadpool(create_job, self._engine, parsed, self._max_attempts)
        except UnknownCustomer as exc:
            return json_response(404, {"error": "not_found", "detail": f"no customer {exc}"})
        try:
            await run_in_threadpool(self._enqueue, [job.id])
        except BrokerUnavailable as exc:
            # The job is stored; the sweeper submits pending jobs the broker never got.
            log.warning("internal_api.enqueue_failed", job_id=job.id, error=str(exc))
        return json_response(202, {"id": job.id, "status": job.status})

    async def clone_voice(self, request: Request) -> Response:
        parsed = await _parse(request, CloneRequest, MAX_CLONE_BODY_BYTES)
        if isinstance(parsed, Response):
            return parsed
        try:
            voice = await run_in_threadpool(
                create_voice, self._engine, self._store, self._audio_dir, parsed
            )
        except UnknownCustomer as exc:
            return json_response(404, {"error": "not_found", "detail": f"no customer {exc}"})
        try:
            await run_in_threadpool(self._enqueue_clone, voice.id)
        except BrokerUnavailable as exc:
            # The voice is stored; the sweeper starts voices the broker never got.
            log.warning("internal_api.enqueue_failed", voice_id=voice.id, error=str(exc))
        return json_response(202, {"id": voice.id, "status": voice.status})

    async def show_voice(self, request: Request) -> Response:
        document = await run_in_threadpool(
            voice_document, self._engine, request.path_params["voice_id"]
        )
        if document is None:
            return json_response(404, {"error": "not_found"})
        return json_response(200, document)

    async def show_customer(self, request: Request) -> Response:
        document = await run_in_threadpool(
            customer_document, self._engine, request.path_params["customer_id"]
        )
        if document is None:
            return json_response(404, {"error": "not_found"})
        return json_response(200, document)

    async def show_job(self, request: Request) -> Response:
        document = await run_in_threadpool(
            job_document, self._engine, request.path_params["job_id"]
        )
        if document is None:
            return json_response(404, {"error": "not_found"})
        return json_response(200, document)


async def _parse(
    request: Request, model: type[ModelT], limit: int = MAX_BODY_BYTES
) -> ModelT | Response:
    try:
        body = await read_body_capped(request.receive, request.headers.get("content-length"), limit)
    except BodyTooLarge:
        return json_response(413, {"error": "payload_too_large"})
    except ClientGone:
        return json_response(400, {"error": "invalid_request"})
    try:
        return model.model_validate_json(body)
    except ValidationError as exc:
        errors = [
            {"field": ".".join(str(p) for p in error["loc"]), "message": error["msg"]}
            for error in exc.errors()
        ]
        return json_response(400, {"error": "invalid_request", "detail": errors})
