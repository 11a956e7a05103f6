"""The internal API's voices: clone from samples (idempotently), read, list."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import structlog
from sqlalchemy import Connection, Engine
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from config.errors import BrokerUnavailable
from receiver.api_support import (
    MAX_BODY_BYTES,
    answer_response,
    idempotency_claim,
    key_reused,
    parse_body,
)
from receiver.errors import InvalidListParameter
from receiver.job_requests import MAX_SAMPLE_BYTES, CloneRequest
from receiver.list_params import (
    page_response,
    read_cursor,
    read_limit,
    read_text,
    refuse_unknown,
)
from receiver.responses import api_error, document_or_404
from receiver.voice_intake import discard_samples, new_voice, upload_samples
from records import voice_repo
from records.errors import IdempotencyKeyReused, UnknownCustomer
from records.idempotency import Answer, IdempotencyClaim, answer_once, stored_answer
from storage.protocol import ObjectStore

log = structlog.get_logger(__name__)

CLONE_VOICE = "POST /api/voices/clone"
# Up to 10 samples of MAX_SAMPLE_BYTES, base64-encoded, and the rest of the document.
MAX_CLONE_BODY_BYTES = 10 * MAX_SAMPLE_BYTES * 4 // 3 + MAX_BODY_BYTES


class VoicesApi:
    def __init__(
        self,
        engine: Engine,
        store: ObjectStore,
        scratch_dir: Path,
        enqueue_clone: Callable[[str], None],
    ) -> None:
        self._engine = engine
        self._store = store
        self._scratch = scratch_dir
        self._enqueue_clone = enqueue_clone

    async def clone(self, request: Request) -> Response:
        parsed = await parse_body(request, CloneRequest, MAX_CLONE_BODY_BYTES)
        if isinstance(parsed, Response):
            return parsed
        claim = idempotency_claim(request, CLONE_VOICE, parsed.sha256)
        if isinstance(claim, Response):
            return claim
        try:
            return await run_in_threadpool(self._clone, parsed.value, claim)
        except UnknownCustomer as exc:
            return api_error(404, "not_found", f"no customer {exc}")
        except IdempotencyKeyReused as exc:
            return key_reused(exc)

    def _clone(self, wanted: CloneRequest, claim: IdempotencyClaim | None) -> Response:
        # A replay answers before any sample is uploaded again.
        stored = None if claim is None else stored_answer(self._engine, claim)
        if stored is not None:
            return answer_response(stored, replayed=True)
        voice = new_voice(self._engine, wanted)
        upload_samples(self._store, self._scratch, voice.id, wanted)

        def insert(conn: Connection) -> Answer:
            voice_repo.insert_voice_on(conn, voice)
            body = {"id": voice.id, "status": voice.status}
            return Answer(202, body, f"/api/voices/{voice.id}")

        try:
            answer, replayed = answer_once(self._engine, claim, insert)
        except IdempotencyKeyReused:  # a concurrent request took the key with another body
            discard_samples(self._store, voice.id, wanted)
            raise
        if replayed:  # a concurrent request with this key stored its voice first
            discard_samples(self._store, voice.id, wanted)
            return answer_response(answer, replayed)
        try:
            self._enqueue_clone(voice.id)
        except BrokerUnavailable as exc:
            # The voice is stored; the sweeper starts voices the broker never got.
            log.warning("internal_api.enqueue_failed", voice_id=voice.id, error=str(exc))
        return answer_response(answer, replayed)

    async def show(self, request: Request) -> Response:
        voice_id = request.path_params["voice_id"]
        document = await run_in_threadpool(voice_repo.voice_document, self._engine, voice_id)
        return document_or_404(document, "voice", voice_id)

    async def list(self, request: Request) -> Response:
        query = request.query_params
        try:
            refuse_unknown(query, ("customer",))
            customer = read_text(query, "customer")
            after, limit = read_cursor(query), read_limit(query)
        except InvalidListParameter as exc:
            return api_error(400, "invalid_parameter", str(exc))
        page = await run_in_threadpool(voice_repo.page_voices, self._engine, customer, after, limit)
        return page_response(page)
