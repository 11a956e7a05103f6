"""Writing notifications into the outbox, inside the transaction of the change they report.

A change that commits has its notification (and one delivery per interested endpoint)
committed with it; a change that rolls back takes its notification with it. Once the
transaction has committed, the deliveries' ids are handed to the publisher registered for
the engine (the workers': enqueue a `deliver_notification` message each), so nothing waits
for the sweeper unless that hand-over fails.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

import structlog
from sqlalchemy import Connection, Engine, insert, select

from config.database import after_commit
from config.errors import VoicehookError
from records.documents import customer_document_on, job_document_on, voice_document_on
from records.ids import new_id
from records.outbox_tables import (
    NOTIFICATIONS,
    NOTIFY_DELIVERIES,
    NOTIFY_ENDPOINTS,
    DeliveryStatus,
    EventType,
)
from records.types import utcnow

log = structlog.get_logger(__name__)

Publish = Callable[[Sequence[str]], None]

_publishers: weakref.WeakKeyDictionary[Engine, Publish] = weakref.WeakKeyDictionary()

DOCUMENTS: dict[str, Callable[[Connection, str], dict[str, Any] | None]] = {
    "job": job_document_on,
    "voice": voice_document_on,
    "customer": customer_document_on,
}


def publish_committed(engine: Engine, publish: Publish | None) -> None:
    """After each commit on `engine` that wrote deliveries, call `publish(delivery ids)`
    (None: stop; the sweeper finds unsent deliveries on its own)."""
    if publish is None:
        _publishers.pop(engine, None)
    else:
        _publishers[engine] = publish


def wants(event_types: Sequence[str], event_type: str) -> bool:
    """Whether an endpoint with this filter (empty: every type) takes this event type."""
    return not event_types or event_type in event_types


Subscribers = Sequence[tuple[str, Sequence[str]]]  # each endpoint's id and type filter


def subscribers_on(conn: Connection) -> Subscribers:
    """Every endpoint with its filter, for a transaction that notifies more than once."""
    return [
        (endpoint_id, event_types or [])
        for endpoint_id, event_types in conn.execute(
            select(NOTIFY_ENDPOINTS.c.id, NOTIFY_ENDPOINTS.c.event_types)
        )
    ]


def notify(
    conn: Connection,
    event_type: EventType,
    subject_id: str,
    subscribers: Subscribers | None = None,
) -> str | None:
    """Record that `subject_id` (a job, voice or customer) changed as `event_type` says,
    with its document as of this transaction; the notification id, or None when no
    endpoint takes this type. `subscribers`: as `subscribers_on` read them in this
    transaction (default: read now)."""
    subscribers = subscribers_on(conn) if subscribers is None else subscribers
    endpoints = [
        endpoint_id
        for endpoint_id, event_types in subscribers
        if wants(event_types, event_type.value)
    ]
    if not endpoints:
        return None
    document = DOCUMENTS[event_type.value.split(".", 1)[0]](conn, subject_id)
    if document is None:
        return None
    now = utcnow()
    notification_id = "msg_" + new_id().replace("-", "")
    sequence = conn.execute(
        insert(NOTIFICATIONS)
        .values(
            id=notification_id,
            type=event_type.value,
            subject_id=subject_id,
            data=document,
            created_at=now,
        )
        .returning(NOTIFICATIONS.c.sequence)
    ).scalar_one()
    deliveries = [
        {
            "id": new_id(),
            "notification_sequence": sequence,
            "endpoint_id": endpoint_id,
            "status": DeliveryStatus.PENDING.value,
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
            "updated_at": now,
        }
        for endpoint_id in endpoints
    ]
    conn.execute(insert(NOTIFY_DELIVERIES), deliveries)
    publish = _publishers.get(conn.engine)
    if publish is not None:
        after_commit(conn, partial(_hand_over, publish, [d["id"] for d in deliveries]))
    return notification_id


def notify_job(
    conn: Connection, event_type: EventType, job_id: str, usage_of: str | None = None
) -> None:
    """A job changed; and, when `usage_of` names its customer, that customer's usage too."""
    notify(conn, event_type, job_id)
    if usage_of is not None:
        notify(conn, EventType.CUSTOMER_USAGE_UPDATED, usage_of)


def _hand_over(publish: Publish, delivery_ids: list[str]) -> None:
    try:
        publish(delivery_ids)
    except VoicehookError as exc:
        # Committed all the same: the sweeper enqueues deliveries nobody sent.
        log.warning("notify.enqueue_failed", deliveries=len(delivery_ids), error=str(exc))
