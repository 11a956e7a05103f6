"""What every route of the internal API shares: the bearer token, bounded JSON bodies,
Idempotency-Key headers, list parameters, and answers replayed from their key."""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

import orjson
import structlog
from pydantic import BaseModel, ValidationError
from sqlalchemy.exc import SQLAlchemyError
from starlette.requests import Request
from starlette.responses import Response

from receiver.body import read_body_capped
from receiver.errors import BodyTooLarge, ClientGone
from receiver.responses import api_error, json_response
from records.errors import IdempotencyKeyReused
from records.idempotency import Answer, IdempotencyClaim
from records.idempotency_tables import MAX_KEY_LENGTH

log = structlog.get_logger(__name__)

ModelT = TypeVar("ModelT", bound=BaseModel)
Handler = Callable[[Request], Awaitable[Response]]
MAX_BODY_BYTES = 64 * 1024  # a customer or a job (its script is at most 5,000 characters)
IDEMPOTENCY_HEADER = "idempotency-key"
# Printable ASCII without spaces: what a UUID, a ULID or any sane client key is made of.
_KEY = re.compile(rf"[\x21-\x7e]{{1,{MAX_KEY_LENGTH}}}")


class BearerGuard:
    """Lets a request through to its handler only with `Authorization: Bearer ADMIN_TOKEN`;
    a database that does not answer is a 503, never a 500."""

    def __init__(self, token: str) -> None:
        self._token = token.encode()

    def __call__(self, handler: Handler) -> Handler:
        async def guarded(request: Request) -> Response:
            if not self._token:
                return api_error(503, "admin_api_disabled", "set ADMIN_TOKEN")
            given = request.headers.get("authorization", "")
            scheme, _, token = given.partition(" ")
            if scheme.lower() != "bearer" or not hmac.compare_digest(token.encode(), self._token):
                return api_error(
                    401,
                    "unauthorized",
                    "send Authorization: Bearer <ADMIN_TOKEN>",
                    {"www-authenticate": "Bearer"},
                )
            try:
                return await handler(request)
            except SQLAlchemyError:
                log.exception("internal_api.database_error")
                return api_error(503, "unavailable", "the database did not answer; try again")

        return guarded


@dataclass(frozen=True)
class Parsed(Generic[ModelT]):
    value: ModelT
    sha256: str  # of the body's canonical JSON (keys sorted, no spaces)


async def parse_body(
    request: Request, model: type[ModelT], limit: int = MAX_BODY_BYTES
) -> Parsed[ModelT] | Response:
    """The request's JSON body as `model`, or the 400/413 answer saying what is wrong."""
    try:
        body = await read_body_capped(request.receive, request.headers.get("content-length"), limit)
    except BodyTooLarge:
        return api_error(413, "payload_too_large", f"the body must be at most {limit} bytes")
    except ClientGone:
        return api_error(400, "invalid_request", "the body ended early")
    try:
        # orjson is the stricter parser (a lone surrogate is refused): what it reads, every
        # answer can write back.
        canonical = orjson.dumps(orjson.loads(body), option=orjson.OPT_SORT_KEYS)
    except orjson.JSONDecodeError as exc:
        return api_error(400, "invalid_request", f"the body is not valid JSON: {exc}")
    try:
        value = model.model_validate_json(body)
    except ValidationError as exc:
        errors = [
            {"field": ".".join(str(p) for p in error["loc"]), "message": error["msg"]}
            for error in exc.errors()
        ]
        return api_error(400, "invalid_request", errors)
    return Parsed(value, hashlib.sha256(canonical).hexdigest())


def idempotency_claim(
    request: Request, operation: str, request_sha256: str
) -> IdempotencyClaim | Response | None:
    """The request's Idempotency-Key as a claim (None without one), or the 400 answer."""
    key = request.headers.get(IDEMPOTENCY_HEADER)
    if key is None:
        return None
    if not _KEY.fullmatch(key):
        return api_error(
            400,
            "invalid_idempotency_key",
            f"Idempotency-Key must be 1-{MAX_KEY_LENGTH} printable ASCII characters, no spaces",
        )
    return IdempotencyClaim(operation, key, request_sha256)


def answer_response(answer: Answer, replayed: bool) -> Response:
    """An answer, first given or replayed from its Idempotency-Key (`Idempotent-Replayed`)."""
    headers = {"location": answer.location} if answer.location else {}
    if replayed:
        headers["idempotent-replayed"] = "true"
    return json_response(answer.status, answer.body, headers)


def key_reused(exc: IdempotencyKeyReused) -> Response:
    return api_error(
        422,
        "idempotency_key_reused",
        f"Idempotency-Key {exc} was used with a different request body",
    )
