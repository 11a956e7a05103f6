"""`POST /webhooks/voiceproductionai`: verify → parse → persist (group commit) → answer."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime

import orjson
import structlog
from starlette.requests import Request
from starlette.responses import Response

from config.errors import StorageUnavailable
from config.settings import Settings
from config.signing import SIGNATURE_HEADER, secret_fingerprint
from receiver.body import BodyTooLarge, read_body_capped
from receiver.ingest import GroupCommitter
from receiver.metrics import DeliveryOutcome, ReceiverMetrics
from receiver.signature import verify_signature
from records.envelope import InvalidPayload, StaleTimestamp, check_freshness, parse_event
from records.event_store import Incoming
from records.ids import new_id
from records.types import utcnow

log = structlog.get_logger(__name__)

# Headers that may carry credentials of whoever sits in front of us; never stored.
UNSTORED_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "x-api-key"})


def json_response(status: int, content: dict[str, str]) -> Response:
    return Response(orjson.dumps(content), status_code=status, media_type="application/json")


class WebhookEndpoint:
    """The webhook route's handler, holding what it needs from the app."""

    def __init__(
        self,
        settings: Settings,
        committer: GroupCommitter,
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

    async def handle(self, request: Request) -> Response:
        started = time.perf_counter()
        try:
            body = await read_body_capped(request, self._max_body)
        except BodyTooLarge as exc:
            log.warning("webhook.rejected", reason="payload_too_large", detail=str(exc))
            return self._answer(DeliveryOutcome.TOO_LARGE, 413, "payload_too_large", started)

        secret_index = verify_signature(body, request.headers.get(SIGNATURE_HEADER), self._secrets)
        if secret_index is None:
            log.warning("webhook.rejected", reason="invalid_signature", size=len(body))
            return self._answer(
                DeliveryOutcome.INVALID_SIGNATURE, 401, "invalid_signature", started
            )
        if secret_index > 0:
            self._metrics.older_secret.labels(str(secret_index)).inc()

        received_at = self._clock()
        try:
            event = parse_event(body)
            if self._tolerance is not None:
                check_freshness(event.body_timestamp, received_at, self._tolerance)
        except (InvalidPayload, StaleTimestamp) as exc:
            log.warning("webhook.rejected", reason="invalid_payload", detail=str(exc))
            return self._answer(DeliveryOutcome.INVALID_PAYLOAD, 400, "invalid_payload", started)

        incoming = Incoming(
            event_id=new_id(),
            event=event,
            body=body,
            headers=_storable_headers(request),
            remote_addr=request.client.host if request.client else None,
            secret_fingerprint=self._fingerprints[secret_index],
            received_at=received_at,
        )
        try:
            outcome = await self._committer.submit(incoming)
        except StorageUnavailable:
            return self._answer(DeliveryOutcome.UNAVAILABLE, 503, "unavailable", started)

        structlog.contextvars.bind_contextvars(event_id=outcome.event_id)
        if outcome.created:
            # Debug: the delivery row and the metrics already record every acceptance.
            log.debug("webhook.accepted", event_type=event.type, status=outcome.status)
            result = DeliveryOutcome.ACCEPTED
            response = json_response(202, {"status": "accepted", "eventId": outcome.event_id})
        else:
            log.info("webhook.duplicate", event_type=event.type, status=outcome.status)
            result = DeliveryOutcome.DUPLICATE
            response = json_response(200, {"status": "duplicate", "eventId": outcome.event_id})
        self._metrics.observe(result, time.perf_counter() - started)
        return response

    def _answer(
        self, outcome: DeliveryOutcome, status: int, error: str, started: float
    ) -> Response:
        self._metrics.observe(outcome, time.perf_counter() - started)
        return json_response(status, {"error": error})


def _storable_headers(request: Request) -> dict[str, str]:
    stored: dict[str, str] = {}
    for name, value in request.headers.items():
        if name in UNSTORED_HEADERS:
            continue
        stored[name] = f"{stored[name]}, {value}" if name in stored else value
    return stored
