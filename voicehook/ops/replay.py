"""Sending captures again: over HTTP to a receiver, or straight into the local pipeline.

Both ways verify as the receiver does. Over HTTP the target does it; `--direct` runs the
same steps in-process — body cap, HMAC against VPAI_WEBHOOK_SECRETS, envelope parsing, the
freshness window when on — so a forged or edited capture can no more be injected directly
than posted, and the verdicts (and their reasons) read the same either way.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import httpx
import orjson
from sqlalchemy import Engine

from config.broker import EnqueueIds
from config.errors import BrokerUnavailable, StorageUnavailable
from config.settings import Settings
from config.signing import SIGNATURE_HEADER, compute_signature, secret_fingerprint
from receiver.signature import verify_signature
from receiver.webhook import UNSTORED_HEADERS
from records.envelope import check_freshness, parse_event
from records.errors import InvalidPayload, StaleTimestamp
from records.event_store import EventStore, Incoming
from records.events import EventStatus
from records.ids import new_id
from records.types import utcnow
from voicehook.ops.capture import Capture
from voicehook.ops.summary import ReplayResult, ReplaySummary, Verdict, classify_response

DEFAULT_TARGET = "http://127.0.0.1:8000/webhooks/voiceproductionai"
REPLAY_HEADER = "X-Voicehook-Replay"  # marks a replayed delivery; its value: the original id
USER_AGENT = "voicehook-replay"
DIRECT_BATCH = 100

OnResult = Callable[[ReplayResult], None]


def outgoing_signature(capture: Capture, secret: bytes | None) -> str | None:
    """The signature to send: a fresh one with `secret`, else the captured one (if any)."""
    if secret is not None:
        return compute_signature(capture.body, secret)
    return capture.signature


def unsignable(captures: Iterable[Capture], secret: bytes | None) -> list[str]:
    """Sources of captures there is no signature for: bare bodies (or captures without a
    captured signature) when no `--secret` was given."""
    return [c.source for c in captures if outgoing_signature(c, secret) is None]


def replay_marker(capture: Capture) -> str:
    return str(capture.delivery_id) if capture.delivery_id is not None else "file"


def _result(
    capture: Capture,
    verdict: Verdict,
    *,
    status: int | None = None,
    reason: str | None = None,
    event_id: str | None = None,
) -> ReplayResult:
    return ReplayResult(
        source=capture.source,
        verdict=verdict,
        status=status,
        reason=reason,
        event_id=event_id,
        delivery_id=capture.delivery_id,
    )


def replay_http(
    captures: Sequence[Capture],
    url: str,
    secret: bytes | None,
    *,
    concurrency: int = 1,
    timeout: float = 30.0,
    on_result: OnResult = lambda _result: None,
) -> ReplaySummary:
    """POST each capture to `url` (at most `concurrency` at a time, results in input order)."""
    summary = ReplaySummary()
    with (
        httpx.Client(timeout=timeout, follow_redirects=False) as client,
        ThreadPoolExecutor(max(1, concurrency), thread_name_prefix="replay") as pool,
    ):
        for result in pool.map(lambda c: _post(client, url, c, secret), captures):
            summary.add(result)
            on_result(result)
    return summary


def _post(client: httpx.Client, url: str, capture: Capture, secret: bytes | None) -> ReplayResult:
    signature = outgoing_signature(capture, secret)
    if signature is None:  # callers check first; never send an unsigned body
        return _result(capture, Verdict.REJECTED, reason="no signature: pass --secret")
    headers = {
        SIGNATURE_HEADER: signature,
        "Content-Type": capture.content_type,
        "User-Agent": USER_AGENT,
        REPLAY_HEADER: replay_marker(capture),
    }
    try:
        response = client.post(url, content=capture.body, headers=headers)
    except httpx.HTTPError as exc:
        return _result(capture, Verdict.ERROR, reason=f"{type(exc).__name__}: {exc}")
    verdict, event_id, reason = classify_response(response.status_code, response.content)
    return _result(capture, verdict, status=response.status_code, reason=reason, event_id=event_id)


@dataclass
class DirectReplay:
    """The receiver's pipeline in-process: verify, parse, persist (dedup), enqueue."""

    settings: Settings
    engine: Engine
    enqueue: EnqueueIds | None  # None: no broker; new events stay `received` for the sweeper

    def run(
        self,
        captures: Sequence[Capture],
        secret: bytes | None,
        on_result: OnResult = lambda _result: None,
    ) -> tuple[ReplaySummary, list[str]]:
        """Replay every capture; the summary, and notes on what was left for later."""
        secrets = self.settings.webhook_secret_values()
        summary = ReplaySummary()
        notes: list[str] = []
        store = EventStore(self.engine)
        for start in range(0, len(captures), DIRECT_BATCH):
            pending: list[tuple[Capture, Incoming]] = []
            for capture in captures[start : start + DIRECT_BATCH]:
                verified = self._verify(capture, secret, secrets)
                if isinstance(verified, ReplayResult):
                    summary.add(verified)
                    on_result(verified)
                else:
                    pending.append((capture, verified))
            for result in self._persist(store, pending, notes):
                summary.add(result)
                on_result(result)
        return summary, notes

    def _verify(
        self, capture: Capture, secret: bytes | None, secrets: list[bytes]
    ) -> Incoming | ReplayResult:
        if len(capture.body) > self.settings.webhook_max_body_bytes:
            return _rejected(capture, 413, "payload_too_large")
        signature = outgoing_signature(capture, secret)
        index = verify_signature(capture.body, signature, secrets)
        if signature is None or index is None:
            return _rejected(capture, 401, "invalid_signature")
        received_at = utcnow()
        try:
            event = parse_event(capture.body)
            tolerance = self.settings.webhook_tolerance_seconds
            if tolerance is not None:
                check_freshness(event.body_timestamp, received_at, tolerance)
        except (InvalidPayload, StaleTimestamp):
            return _rejected(capture, 400, "invalid_payload")
        return Incoming(
            event_id=new_id(),
            event=event,
            body=capture.body,
            headers=_direct_headers(capture, signature),
            remote_addr=None,
            secret_fingerprint=secret_fingerprint(secrets[index]),
            received_at=received_at,
        )

    def _persist(
        self, store: EventStore, pending: list[tuple[Capture, Incoming]], notes: list[str]
    ) -> list[ReplayResult]:
        if not pending:
            return []
        try:
            outcomes = store.persist([incoming for _, incoming in pending])
        except StorageUnavailable as exc:
            return [_rejected(c, 503, "unavailable", detail=str(exc)) for c, _ in pending]
        created = [o.event_id for o in outcomes if o.created and o.status == EventStatus.RECEIVED]
        if created:
            self._enqueue(store, created, notes)
        return [
            _result(
                capture,
                Verdict.ACCEPTED if outcome.created else Verdict.DUPLICATE,
                status=202 if outcome.created else 200,
                event_id=outcome.event_id,
            )
            for (capture, _), outcome in zip(pending, outcomes, strict=True)
        ]

    def _enqueue(self, store: EventStore, event_ids: list[str], notes: list[str]) -> None:
        later = f"{len(event_ids)} new event(s) left `received`; the sweeper will enqueue them"
        if self.enqueue is None:
            notes.append(f"{later} (REDIS_URL is not set)")
            return
        try:
            self.enqueue(event_ids)
        except BrokerUnavailable as exc:
            notes.append(f"{later} ({exc})")
            return
        # Enqueued all the same if this fails: workers claim `received` events as well.
        with contextlib.suppress(StorageUnavailable):
            store.mark_queued(event_ids)


def _rejected(capture: Capture, status: int, code: str, detail: str = "") -> ReplayResult:
    reason = orjson.dumps({"error": code}).decode() + (f" ({detail})" if detail else "")
    return _result(capture, Verdict.REJECTED, status=status, reason=reason)


def _direct_headers(capture: Capture, signature: str) -> dict[str, str]:
    """The headers stored with a directly injected delivery: the captured ones (never
    credentials), the signature that verified, and the replay marker."""
    unstored = {name.decode() for name in UNSTORED_HEADERS}
    headers = {
        name.lower(): value
        for name, value in capture.headers.items()
        if name.lower() not in unstored and name.lower() != SIGNATURE_HEADER.lower()
    }
    headers.setdefault("content-type", "application/json")
    headers[SIGNATURE_HEADER.lower()] = signature
    headers[REPLAY_HEADER.lower()] = replay_marker(capture)
    return headers
