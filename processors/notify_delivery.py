"""Delivering one notification to one endpoint: claim, sign, POST, settle.

Called by the `deliver_notification` actor with a delivery id. At least once: a worker killed
after the POST and before the settle leaves a lease that runs out, and the same delivery is
sent again under the same `webhook-id`, which the app dedupes on.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx
import structlog
from sqlalchemy import Engine

from config.settings import Settings
from processors.download import HostPort
from processors.errors import DisallowedNotifyUrl
from processors.notify_http import PostOutcome, post_notification
from processors.notify_message import notification_body, signed_headers
from processors.notify_policy import RetryPolicy
from processors.notify_urls import (
    Resolve,
    allowed_notify_hosts,
    check_notify_url,
    resolve_addresses,
)
from records.outbox_delivery import (
    DeliveryWork,
    EndpointBusy,
    claim_delivery,
    delivery_failed,
    delivery_succeeded,
)

log = structlog.get_logger(__name__)

BUSY_DELAY_SECONDS = 0.5  # an endpoint at its limit: look again this soon (with jitter)


@dataclass
class Notifier:
    """What delivering needs: the database, an HTTP client, the knobs, and a way to ask
    for a delivery again later (a delayed message)."""

    engine: Engine
    http: httpx.Client
    env_secrets: Sequence[str]
    allowed_hosts: frozenset[HostPort]
    policy: RetryPolicy
    max_in_flight: int
    lease_seconds: float
    flag_after_seconds: float
    schedule: Callable[[str, float], None] = field(default=lambda delivery_id, delay: None)
    resolve: Resolve = resolve_addresses


def build_notifier(settings: Settings, engine: Engine) -> Notifier:
    """A notifier from settings (ConfigurationError when NOTIFY_SECRET is unusable)."""
    timeout = settings.notify_timeout_seconds
    return Notifier(
        engine=engine,
        http=httpx.Client(timeout=timeout, follow_redirects=False, trust_env=False),
        env_secrets=settings.notify_secret_values(),
        allowed_hosts=allowed_notify_hosts(settings.notify_allowed_hosts),
        policy=RetryPolicy(
            settings.notify_max_attempts,
            settings.notify_retry_base_seconds,
            settings.notify_retry_max_seconds,
        ),
        max_in_flight=settings.notify_max_in_flight,
        # Connect, write and read may each take the time-out; a lease outlasts all three.
        lease_seconds=3 * timeout + 10,
        flag_after_seconds=settings.notify_flag_after_seconds,
    )


def deliver(notifier: Notifier, delivery_id: str) -> str:
    """One try of the delivery if it is due; what happened, in a word or two."""
    claim = claim_delivery(
        notifier.engine,
        delivery_id,
        lease_seconds=notifier.lease_seconds,
        max_in_flight=notifier.max_in_flight,
    )
    if claim is None:
        return "nothing to do"
    if isinstance(claim, EndpointBusy):
        notifier.schedule(delivery_id, BUSY_DELAY_SECONDS * random.uniform(1, 2))
        return "endpoint busy"
    outcome = _send(notifier, claim)
    bound = log.bind(
        delivery_id=delivery_id,
        notification_id=claim.notification_id,
        endpoint_id=claim.endpoint_id,
        attempt=claim.attempts,
    )
    if outcome.delivered:
        delivery_succeeded(notifier.engine, claim, outcome.status_code or 200)
        bound.info("notify.delivered", status=outcome.status_code)
        return "delivered"
    delay = notifier.policy.next_delay(claim.attempts, flagged=claim.endpoint_flagged)
    error = outcome.error or "failed"
    flagged = delivery_failed(
        notifier.engine,
        claim,
        status_code=outcome.status_code,
        error=error,
        retry_after_seconds=delay,
        flag_after_seconds=notifier.flag_after_seconds,
    )
    if flagged:
        bound.warning("notify.endpoint_flagged", reason=error)
    if delay is None:
        bound.warning("notify.dead_lettered", status=outcome.status_code, error=error)
        return "dead-lettered"
    bound.info("notify.retry_scheduled", status=outcome.status_code, delay=round(delay, 3))
    notifier.schedule(delivery_id, delay)
    return "retry scheduled"


def _send(notifier: Notifier, work: DeliveryWork) -> PostOutcome:
    try:
        url = check_notify_url(work.url, notifier.allowed_hosts, notifier.resolve)
    except DisallowedNotifyUrl as exc:
        return PostOutcome(False, None, str(exc))
    secrets = work.secrets if work.secrets is not None else tuple(notifier.env_secrets)
    if not secrets:
        return PostOutcome(False, None, "no signing secret (set NOTIFY_SECRET)")
    body = notification_body(work.event_type, work.created_at, work.sequence, work.data)
    headers = signed_headers(work.notification_id, datetime.now(UTC), body, secrets)
    return post_notification(notifier.http, url, body, headers)
