"""`POST /webhooks/voiceproductionai`: verify → parse → persist (group commit) → answer.

A plain ASGI app rather than a Starlette route: it is the one hot path of the service, and
Starlette's request, response and middleware objects were a large share of its CPU. It
keeps the same contract as every other route (request id bound and echoed, JSON errors).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime

import orjson
import structlog
from starlette.types import Receive, Scope, Send

from config.errors import StorageUnavailable
from config.settings import Settings
from config.signing import SIGNATURE_HEADER, secret_fingerprint
from config.tracing import annotate, current_traceparent
from receiver.body import read_body_capped
from receiver.committer import Committer
from receiver.errors import BodyTooLarge, ClientGone
from receiver.log_sampling import SampledWarning
from receiver.metrics import DeliveryOutcome, ReceiverMetrics
from receiver.request_context import new_request_id, valid_request_id
from receiver.signature import verify_signature
from receiver.stored_headers import storable_headers
from records.envelope import check_freshness, parse_event
from records.errors import InvalidPayload, StaleTimestamp
from records.event_store import UNSTORABLE, Incoming
from records.ids import new_id
from records.types import utcnow

log = structlog.get_logger(__name__)

_SIGNATURE = SIGNATURE_HEADER.lower().encode()
ERROR_CODES = {
    DeliveryOutcome.TOO_LARGE: "payload_too_large",
    DeliveryOutcome.INVALID_SIGNATURE: "invalid_signature",
    DeliveryOutcome.INVALID_PAYLOAD: "invalid_payload",
    DeliveryOutcome.UNAVAILABLE: "unavailable",
}
ERROR_BODIES = {outcome: orjson.dumps({"error": code}) for outcome, code in ERROR_CODES.items()}
_JSON = (b"content-type", b"application/json")


class WebhookEndpoint:
    """The webhook endpoint as an ASGI app, holding what it needs from the app."""

    def __init__(
        self,
        settings: Settings,
        committer: Committer,
        metrics: ReceiverMetrics,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._secrets = settings.webhook_secret_values()
        self._fingerprints = [secret_fingerprint(secret) for secret in self._secrets]
        self._max_body = settings.webhook_max_body_bytes
        self._tolerance = settings.webhook_tolerance_seconds
        self._committer = committer
        self._metrics = metrics
        self._clock = clock
        self._sampled = {
            DeliveryOutcome.INVALID_SIGNATURE: SampledWarning("webhook.rejected"),
            DeliveryOutcome.TOO_LARGE: SampledWarning("webhook.rejected"),
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        signature, declared, request_id = _read_headers(scope["headers"])
        # The ids go into this request's few log lines by hand: binding them, to contextvars or
        # a logger, costs more on the path that logs nothing than those lines ever will.
        answer = _Answer(send, request_id)
        if scope["method"] != "POST":
            await answer.send(405, b'{"error":"method_not_allowed"}')
            return
        try:
            body = await read_body_capped(receive, declared, self._max_body)
        except BodyTooLarge as exc:
            await self._reject(answer, DeliveryOutcome.TOO_LARGE, 413, started, detail=str(exc))
            return
        except ClientGone:
            return

        secret_index = verify_signature(body, signature, self._secrets)
        if secret_index is None:
            refused = DeliveryOutcome.INVALID_SIGNATURE
            await self._reject(answer, refused, 401, started, size=len(body))
            return
        if secret_index > 0:
            self._metrics.older_secret.labels(str(secret_index)).inc()

        received_at = self._clock()
        try:
            event = parse_event(body)
            if self._tolerance is not None:
                check_freshness(event.body_timestamp, received_at, self._tolerance)
        except (InvalidPayload, StaleTimestamp) as exc:
            refused = DeliveryOutcome.INVALID_PAYLOAD
            await self._reject(answer, refused, 400, started, detail=str(exc))
            return

        client = scope.get("client")
        incoming = Incoming(
            event_id=new_id(),
            event=event,
            body=body,
            headers=storable_headers(scope["headers"]),
            remote_addr=client[0] if client else None,
            secret_fingerprint=self._fingerprints[secret_index],
            received_at=received_at,
            trace=current_traceparent(),
        )
        try:
            outcome = await self._committer.submit(incoming)
        except StorageUnavailable:
            outcome = None
        # UNSTORABLE: the database refused this delivery alone (receiver/writer.py).
        if outcome is None or outcome.status == UNSTORABLE:
            await self._reject(answer, DeliveryOutcome.UNAVAILABLE, 503, started)
            return

        annotate(**{"voicehook.event_id": outcome.event_id, "voicehook.event_type": event.type})
        event_id = outcome.event_id.encode()
        if outcome.created:
            # Debug: the delivery row and the metrics already record every acceptance.
            log.debug(
                "webhook.accepted",
                request_id=request_id,
                event_id=outcome.event_id,
                event_type=event.type,
            )
            self._metrics.observe(DeliveryOutcome.ACCEPTED, time.perf_counter() - started)
            await answer.send(202, b'{"status":"accepted","eventId":"' + event_id + b'"}')
        else:
            log.info(
                "webhook.duplicate",
                request_id=request_id,
                event_id=outcome.event_id,
                event_type=event.type,
                status=outcome.status,
            )
            self._metrics.observe(DeliveryOutcome.DUPLICATE, time.perf_counter() - started)
            await answer.send(200, b'{"status":"duplicate","eventId":"' + event_id + b'"}')

    async def _reject(
        self,
        answer: _Answer,
        outcome: DeliveryOutcome,
        status: int,
        started: float,
        **context: object,
    ) -> None:
        """Count and answer a refusal; log it when given `context` (not for 503s: during an
        outage the writer has logged the cause, and a line per retried request adds nothing).

        Refusals anyone can cause without a secret (a forged signature, an oversized body)
        are logged at most once per interval each, so a flood cannot flood the log too; the
        metrics count every one."""
        if context:
            sampled = self._sampled.get(outcome)
            fields = {"request_id": answer.request_id, "reason": ERROR_CODES[outcome], **context}
            if sampled is not None:
                sampled.warn(**fields)
            else:
                log.warning("webhook.rejected", **fields)
        self._metrics.observe(outcome, time.perf_counter() - started)
        await answer.send(status, ERROR_BODIES[outcome])


class _Answer:
    """Sends one small JSON response with the request id."""

    def __init__(self, send: Send, request_id: str) -> None:
        self._send = send
        self.request_id = request_id
        self._request_id = request_id.encode()

    async def send(self, status: int, body: bytes) -> None:
        await self._send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    _JSON,
                    (b"content-length", b"%d" % len(body)),
                    (b"x-request-id", self._request_id),
                ],
            }
        )
        await self._send({"type": "http.response.body", "body": body})


def _read_headers(raw: list[tuple[bytes, bytes]]) -> tuple[str | None, bytes | None, str]:
    """The signature, declared length and request id (the router's, or a new one)."""
    signature = declared = request_id = None
    for name, value in raw:
        if name == _SIGNATURE:
            signature = value.decode("latin-1")
        elif name == b"content-length":
            declared = value
        elif name == b"x-request-id" and valid_request_id(value):
            request_id = value.decode()
    return signature, declared, request_id or new_request_id()
