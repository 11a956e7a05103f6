"""The internal API of the business's own app, behind `ADMIN_TOKEN`: its routes, gathered
from one module per resource (`api_jobs`, `api_customers`, `api_voices`), its OpenAPI
document (`api_openapi`), and the one error shape for everything under /api."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Engine
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import Route

from config.broker import EnqueueIds
from config.settings import Settings
from receiver.api_customers import CustomersApi
from receiver.api_docs import render_docs
from receiver.api_jobs import JobsApi
from receiver.api_openapi import openapi_document
from receiver.api_support import BearerGuard
from receiver.api_voices import VoicesApi
from receiver.audio_delivery import AudioDelivery
from receiver.responses import api_error, json_response
from storage.build import open_store

API_PREFIX = "/api/"
HTTP_ERROR_CODES = {404: "not_found", 405: "method_not_allowed"}


class InternalApi:
    def __init__(
        self,
        settings: Settings,
        engine: Engine,
        enqueue_submissions: EnqueueIds,
        enqueue_clone: Callable[[str], None],
    ) -> None:
        token = settings.admin_token.get_secret_value() if settings.admin_token else ""
        self._guard = BearerGuard(token)
        store = open_store(settings)
        self.audio = AudioDelivery(engine, store, settings.audio_url_lifetime_seconds)
        self._jobs = JobsApi(engine, enqueue_submissions, settings.job_max_attempts)
        self._customers = CustomersApi(engine)
        self._voices = VoicesApi(engine, store, settings.audio_dir, enqueue_clone)
        document = openapi_document()
        self._openapi = json_response(200, document).body
        self._docs = render_docs(document)

    def routes(self) -> list[Route]:
        guard, jobs, customers, voices = self._guard, self._jobs, self._customers, self._voices
        return [
            # Public: the contract, not data; clients and tools fetch it before any token.
            Route("/api/openapi.json", self.openapi, methods=["GET"]),
            Route("/api/docs", self.docs, methods=["GET"]),
            Route("/api/customers", guard(customers.create), methods=["POST"]),
            Route("/api/customers", guard(customers.list), methods=["GET"]),
            Route("/api/customers/{customer_id}", guard(customers.show), methods=["GET"]),
            Route("/api/jobs", guard(jobs.create), methods=["POST"]),
            Route("/api/jobs", guard(jobs.list), methods=["GET"]),
            Route("/api/jobs/{job_id}", guard(jobs.show), methods=["GET"]),
            Route("/api/jobs/{job_id}/audio", guard(self.audio.handle), methods=["GET"]),
            Route("/api/jobs/{job_id}/retry", guard(jobs.retry), methods=["POST"]),
            Route("/api/jobs/{job_id}/resume", guard(jobs.resume), methods=["POST"]),
            Route("/api/voices", guard(voices.list), methods=["GET"]),
            Route("/api/voices/clone", guard(voices.clone), methods=["POST"]),
            Route("/api/voices/{voice_id}", guard(voices.show), methods=["GET"]),
        ]

    async def openapi(self, _: Request) -> Response:
        return Response(self._openapi, media_type="application/json")

    async def docs(self, _: Request) -> HTMLResponse:
        return HTMLResponse(self._docs)


async def http_error(request: Request, exc: Exception) -> Response:
    """Starlette's own 404 and 405: in the API's error shape under /api, plain elsewhere."""
    assert isinstance(exc, HTTPException)
    headers = dict(exc.headers or {})
    if not request.url.path.startswith(API_PREFIX):
        return PlainTextResponse(exc.detail, exc.status_code, headers)
    code = HTTP_ERROR_CODES.get(exc.status_code, "http_error")
    return api_error(exc.status_code, code, exc.detail, headers)
