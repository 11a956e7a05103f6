"""Webhook delivery: signed POSTs, at least once, retried with backoff, every attempt logged.

A delivery's body is serialised once, when the event happens; every retry and every injected
duplicate sends those same bytes with the same signature, as a real sender's retries do.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

import httpx
import orjson

from config.signing import SIGNATURE_HEADER, compute_signature
from sandbox.clock import Clock, iso_millis
from sandbox.faults import FaultInjector
from sandbox.models import WebhookEndpoint
from sandbox.state import new_id

log = logging.getLogger(__name__)

USER_AGENT = "VoiceProductionAI-Webhooks/1.0 (voicehook sandbox)"
IDLE_WAKE_SECONDS = 1.0


class DeliveryState(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"


@dataclass
class Attempt:
    number: int
    started_at: datetime
    finished_at: datetime | None = None
    status_code: int | None = None
    error: str | None = None


@dataclass
class Delivery:
    """One event on its way to one endpoint; `due` is on the sandbox's monotonic clock."""

    id: str
    sequence: int
    endpoint: WebhookEndpoint
    event: str
    resource_id: str | None
    body: bytes
    signature: str
    created_at: datetime
    due: float
    state: DeliveryState = DeliveryState.PENDING
    duplicate_of: str | None = None
    delayed: bool = False
    reordered: bool = False
    held: bool = False
    in_flight: bool = False
    attempts: list[Attempt] = field(default_factory=list)


def event_body(event: str, data: dict[str, object], timestamp: datetime) -> bytes:
    """The exact bytes of a delivery: `{"event", "timestamp", "data"}` as compact JSON."""
    return orjson.dumps({"event": event, "timestamp": iso_millis(timestamp), "data": data})


def retry_delay(schedule: Sequence[float], failed_attempts: int) -> float | None:
    """Seconds to wait after the `failed_attempts`-th failure, or None to give up."""
    if failed_attempts < 1 or failed_attempts > len(schedule):
        return None
    return schedule[failed_attempts - 1]


class WebhookDispatcher:
    """Queues deliveries, applies delivery faults, and sends them from a background task."""

    def __init__(
        self,
        clock: Clock,
        faults: FaultInjector,
        *,
        retry_schedule: Sequence[float],
        timeout: float,
    ) -> None:
        self._clock = clock
        self._faults = faults
        self._schedule = tuple(retry_schedule)
        self._timeout = timeout
        self._deliveries: dict[str, Delivery] = {}
        self._pending: dict[str, Delivery] = {}
        self._sequence = 0
        self._attempts: set[asyncio.Task[None]] = set()
        self._wake = asyncio.Event()

    def emit(
        self, endpoints: Sequence[WebhookEndpoint], event: str, data: dict[str, object]
    ) -> list[Delivery]:
        """Queue `event` to every endpoint (plus any injected duplicates); return them all."""
        now = self._clock.now()
        body = event_body(event, data, now)
        resource_id = data.get("id")
        queued: list[Delivery] = []
        for endpoint in endpoints:
            signature = compute_signature(body, endpoint.secret.encode())
            copies = 2 if self._faults.strikes("webhook_duplicate_rate") else 1
            original: Delivery | None = None
            for _ in range(copies):
                delivery = self._queue(
                    endpoint,
                    event=event,
                    resource_id=resource_id,
                    body=body,
                    signature=signature,
                    created_at=now,
                    duplicate_of=original.id if original else None,
                )
                original = original or delivery
                queued.append(delivery)
        self._wake.set()
        return queued

    def _queue(
        self,
        endpoint: WebhookEndpoint,
        *,
        event: str,
        resource_id: object,
        body: bytes,
        signature: str,
        created_at: datetime,
        duplicate_of: str | None,
    ) -> Delivery:
        now = self._clock.monotonic()
        hold_for = self._faults.settings.webhook_delay_seconds
        held = self._faults.strikes("webhook_reorder_rate")
        delayed = not held and self._faults.strikes("webhook_delay_rate")
        self._sequence += 1
        delivery = Delivery(
            id=new_id(),
            sequence=self._sequence,
            endpoint=endpoint,
            event=event,
            resource_id=resource_id if isinstance(resource_id, str) else None,
            body=body,
            signature=signature,
            created_at=created_at,
            due=now + hold_for if held or delayed else now,
            duplicate_of=duplicate_of,
            delayed=delayed,
            reordered=held,
            held=held,
        )
        self._deliveries[delivery.id] = delivery
        self._pending[delivery.id] = delivery
        return delivery

    def deliveries(
        self,
        *,
        event: str | None = None,
        resource_id: str | None = None,
        endpoint_id: str | None = None,
    ) -> list[Delivery]:
        """The delivery log, oldest first, optionally filtered."""
        return [
            d
            for d in self._deliveries.values()
            if (event is None or d.event == event)
            and (resource_id is None or d.resource_id == resource_id)
            and (endpoint_id is None or d.endpoint.id == endpoint_id)
        ]

    def wake(self) -> None:
        """Look at due deliveries now (after the clock moved)."""
        self._wake.set()

    def reset(self) -> None:
        for task in self._attempts:
            task.cancel()
        self._deliveries.clear()
        self._pending.clear()
        self._wake.set()

    async def run(self) -> None:
        """Send due deliveries until cancelled; each attempt runs as its own task."""
        async with httpx.AsyncClient(timeout=self._timeout, trust_env=False) as client:
            try:
                while True:
                    self._wake.clear()
                    now = self._clock.monotonic()
                    for delivery in list(self._pending.values()):
                        if self._is_due(delivery, now):
                            self._start_attempt(client, delivery)
                    await self._sleep(self._next_due(), now)
            finally:
                for task in self._attempts:
                    task.cancel()
                await asyncio.gather(*self._attempts, return_exceptions=True)

    @staticmethod
    def _is_due(delivery: Delivery, now: float) -> bool:
        return (
            delivery.state is DeliveryState.PENDING
            and not delivery.in_flight
            and delivery.due <= now
        )

    def _next_due(self) -> float | None:
        return min((d.due for d in self._pending.values() if not d.in_flight), default=None)

    async def _sleep(self, due: float | None, now: float) -> None:
        timeout = IDLE_WAKE_SECONDS if due is None else min(IDLE_WAKE_SECONDS, due - now)
        if timeout <= 0:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout)

    def _start_attempt(self, client: httpx.AsyncClient, delivery: Delivery) -> None:
        delivery.in_flight = True
        delivery.held = False
        task = asyncio.create_task(self._attempt(client, delivery))
        self._attempts.add(task)
        task.add_done_callback(self._attempts.discard)

    async def _attempt(self, client: httpx.AsyncClient, delivery: Delivery) -> None:
        attempt = Attempt(number=len(delivery.attempts) + 1, started_at=self._clock.now())
        delivery.attempts.append(attempt)
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: delivery.signature,
            "User-Agent": USER_AGENT,
        }
        try:
            response = await client.post(
                delivery.endpoint.url, content=delivery.body, headers=headers
            )
            attempt.status_code = response.status_code
        except httpx.TimeoutException:
            attempt.error = "timeout"
        except httpx.HTTPError as exc:
            attempt.error = f"{type(exc).__name__}: {exc}"
        attempt.finished_at = self._clock.now()
        delivery.in_flight = False
        self._settle(delivery, attempt)
        self._wake.set()

    def _settle(self, delivery: Delivery, attempt: Attempt) -> None:
        if attempt.status_code is not None and 200 <= attempt.status_code < 300:
            delivery.state = DeliveryState.DELIVERED
            self._pending.pop(delivery.id, None)
        else:
            delay = retry_delay(self._schedule, len(delivery.attempts))
            if delay is None:
                delivery.state = DeliveryState.FAILED
                self._pending.pop(delivery.id, None)
                log.warning("gave up on webhook %s to %s", delivery.event, delivery.endpoint.url)
            else:
                delivery.due = self._clock.monotonic() + delay
        # A held delivery waits until a later one to the same endpoint has gone out first.
        for other in self._pending.values():
            if (
                other.held
                and other.sequence < delivery.sequence
                and other.endpoint.id == delivery.endpoint.id
            ):
                other.held = False
                other.due = self._clock.monotonic()
