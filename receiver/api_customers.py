"""The internal API's customers: create (idempotently, and once per externalRef), read, list."""

from __future__ import annotations

from sqlalchemy import Connection, Engine
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from receiver.api_support import answer_response, idempotency_claim, key_reused, parse_body
from receiver.errors import InvalidListParameter
from receiver.job_requests import CustomerRequest
from receiver.list_params import page_response, read_cursor, read_limit, refuse_unknown
from receiver.responses import api_error, document_or_404
from records import customer_repo
from records.errors import IdempotencyKeyReused
from records.idempotency import Answer, answer_once

CREATE_CUSTOMER = "POST /api/customers"


class CustomersApi:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    async def create(self, request: Request) -> Response:
        parsed = await parse_body(request, CustomerRequest)
        if isinstance(parsed, Response):
            return parsed
        claim = idempotency_claim(request, CREATE_CUSTOMER, parsed.sha256)
        if isinstance(claim, Response):
            return claim
        wanted = parsed.value

        def upsert(conn: Connection) -> Answer:
            customer, created = customer_repo.upsert_customer_on(
                conn, wanted.external_ref, wanted.name
            )
            body = {"id": customer.id, "externalRef": customer.external_ref, "name": customer.name}
            return Answer(201 if created else 200, body, f"/api/customers/{customer.id}")

        try:
            answer, replayed = await run_in_threadpool(answer_once, self._engine, claim, upsert)
        except IdempotencyKeyReused as exc:
            return key_reused(exc)
        return answer_response(answer, replayed)

    async def show(self, request: Request) -> Response:
        customer_id = request.path_params["customer_id"]
        document = await run_in_threadpool(
            customer_repo.customer_document, self._engine, customer_id
        )
        return document_or_404(document, "customer", customer_id)

    async def list(self, request: Request) -> Response:
        try:
            refuse_unknown(request.query_params)
            after, limit = read_cursor(request.query_params), read_limit(request.query_params)
        except InvalidListParameter as exc:
            return api_error(400, "invalid_parameter", str(exc))
        page = await run_in_threadpool(customer_repo.page_customers, self._engine, after, limit)
        return page_response(page)
