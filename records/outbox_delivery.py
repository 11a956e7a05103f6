"""Sending the outbox: a delivery is claimed for one try, then settled; the sweeper finds
the ones no message is coming for; the operator lists and resends dead-lettered ones.

A claim is a lease (`sending` until `lease_until`): a worker killed mid-send leaves the
delivery to be claimed again when the lease runs out, under the same webhook-id. The
per-endpoint limit is counted under a lock of the endpoint's row (PostgreSQL `FOR NO KEY UPDATE`;
SQLite's write transactions are serial anyway), so concurrent claims cannot overshoot it.

Claims, settles and the sweeper's marks commit without waiting for the disk
(`transaction(durable=False)`): the notification and its deliveries were committed durably
with the change, and a power cut that undoes the newest of these commits only takes a
delivery back to `pending` or to a lease that runs out, so it is sent again under the same
webhook-id — at least once still holds. On a loaded disk this takes two of the three fsyncs
a notification cost off the path from the change to the app.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, and_, func, or_, select, update

from config.database import transaction
from records.outbox_tables import (
    NOTIFICATIONS,
    NOTIFY_DELIVERIES,
    NOTIFY_ENDPOINTS,
    DeliveryStatus,
    EndpointSource,
)
from records.types import utcnow

D = NOTIFY_DELIVERIES.c


@dataclass(frozen=True)
class DeliveryWork:
    """One try of one delivery: what to send, where, and signed with what."""

    delivery_id: str
    endpoint_id: str
    url: str
    # Newest first; None for an endpoint from NOTIFY_URLS (signed with NOTIFY_SECRET).
    secrets: tuple[str, ...] | None
    notification_id: str
    event_type: str
    sequence: int
    data: dict[str, Any]
    created_at: datetime
    attempts: int  # including this one
    endpoint_flagged: bool


@dataclass(frozen=True)
class EndpointBusy:
    """The endpoint has as many deliveries in flight as it may."""


@dataclass(frozen=True)
class DeliveryRow:
    """A delivery as `voicehook notifications list` shows it."""

    delivery_id: str
    notification_id: str
    event_type: str
    subject_id: str
    sequence: int
    endpoint_id: str
    url: str
    status: str
    attempts: int
    next_attempt_at: datetime
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None


def claim_delivery(
    engine: Engine, delivery_id: str, *, lease_seconds: float, max_in_flight: int
) -> DeliveryWork | EndpointBusy | None:
    """Take the delivery for one try if it is due (None: delivered, dead, not yet due, or
    held by a live lease); EndpointBusy when its endpoint is at its limit."""
    now = utcnow()
    with transaction(engine, durable=False) as conn:
        row = (
            conn.execute(select(NOTIFY_DELIVERIES).where(D.id == delivery_id, _claimable(now)))
            .mappings()
            .first()
        )
        if row is None:
            return None
        endpoint = (
            conn.execute(
                select(NOTIFY_ENDPOINTS)
                .where(NOTIFY_ENDPOINTS.c.id == row["endpoint_id"])
                # FOR NO KEY UPDATE: claims of one endpoint still queue on each other, but
                # not the changes inserting deliveries for it (their foreign-key check takes
                # FOR KEY SHARE, which FOR UPDATE blocked: a change waited on a claim, and
                # under load one deadlocked with it).
                .with_for_update(key_share=True)
            )
            .mappings()
            .one()
        )
        in_flight = conn.execute(
            select(func.count())
            .select_from(NOTIFY_DELIVERIES)
            .where(
                D.endpoint_id == row["endpoint_id"],
                D.status == DeliveryStatus.SENDING.value,
                D.lease_until > now,
            )
        ).scalar_one()
        if in_flight >= (endpoint["max_in_flight"] or max_in_flight):
            return EndpointBusy()
        claimed = conn.execute(
            update(NOTIFY_DELIVERIES)
            .where(D.id == delivery_id, _claimable(now))
            .values(
                status=DeliveryStatus.SENDING.value,
                attempts=D.attempts + 1,
                lease_until=now + timedelta(seconds=lease_seconds),
                updated_at=now,
            )
        ).rowcount
        if not claimed:
            return None
        notification = (
            conn.execute(
                select(NOTIFICATIONS).where(
                    NOTIFICATIONS.c.sequence == row["notification_sequence"]
                )
            )
            .mappings()
            .one()
        )
        return DeliveryWork(
            delivery_id=delivery_id,
            endpoint_id=endpoint["id"],
            url=endpoint["url"],
            secrets=_signing_secrets(endpoint, now),
            notification_id=notification["id"],
            event_type=notification["type"],
            sequence=notification["sequence"],
            data=notification["data"],
            created_at=notification["created_at"],
            attempts=row["attempts"] + 1,
            endpoint_flagged=endpoint["flagged_at"] is not None,
        )


def _claimable(now: datetime) -> Any:
    return or_(
        and_(D.status == DeliveryStatus.PENDING.value, D.next_attempt_at <= now),
        and_(D.status == DeliveryStatus.SENDING.value, D.lease_until <= now),
    )


def _signing_secrets(endpoint: Any, now: datetime) -> tuple[str, ...] | None:
    if endpoint["source"] == EndpointSource.ENV.value:
        return None
    found = [endpoint["secret"]]
    expires = endpoint["previous_secret_expires_at"]
    if endpoint["previous_secret"] and (expires is None or expires > now):
        found.append(endpoint["previous_secret"])
    return tuple(found)


def delivery_succeeded(engine: Engine, work: DeliveryWork, status_code: int) -> None:
    """The endpoint took it: delivered, and the endpoint is healthy again."""
    now = utcnow()
    with transaction(engine, durable=False) as conn:
        conn.execute(
            update(NOTIFY_DELIVERIES)
            .where(D.id == work.delivery_id, D.status == DeliveryStatus.SENDING.value)
            .values(
                status=DeliveryStatus.DELIVERED.value,
                delivered_at=now,
                lease_until=None,
                last_status_code=status_code,
                last_error=None,
                updated_at=now,
            )
        )
        conn.execute(
            update(NOTIFY_ENDPOINTS)
            .where(NOTIFY_ENDPOINTS.c.id == work.endpoint_id)
            .values(failing_since=None, flagged_at=None, last_success_at=now, updated_at=now)
        )


def delivery_failed(
    engine: Engine,
    work: DeliveryWork,
    *,
    status_code: int | None,
    error: str,
    retry_after_seconds: float | None,
    flag_after_seconds: float,
) -> bool:
    """This try failed: due again after `retry_after_seconds`, or dead-lettered (None).
    The endpoint's failing spell starts or goes on; True when this failure flagged it."""
    now = utcnow()
    values: dict[str, Any] = {
        "lease_until": None,
        "last_status_code": status_code,
        "last_error": error[:1000],
        "updated_at": now,
    }
    if retry_after_seconds is None:
        values["status"] = DeliveryStatus.FAILED.value
    else:
        values |= {
            "status": DeliveryStatus.PENDING.value,
            "next_attempt_at": now + timedelta(seconds=retry_after_seconds),
            "enqueued_at": now,  # the caller sends the delayed message
        }
    with transaction(engine, durable=False) as conn:
        conn.execute(
            update(NOTIFY_DELIVERIES)
            .where(D.id == work.delivery_id, D.status == DeliveryStatus.SENDING.value)
            .values(**values)
        )
        endpoint = NOTIFY_ENDPOINTS.c
        conn.execute(
            update(NOTIFY_ENDPOINTS)
            .where(endpoint.id == work.endpoint_id)
            .values(
                failing_since=func.coalesce(endpoint.failing_since, now),
                last_error=error[:1000],
                updated_at=now,
            )
        )
        flagged = conn.execute(
            update(NOTIFY_ENDPOINTS)
            .where(
                endpoint.id == work.endpoint_id,
                endpoint.flagged_at.is_(None),
                endpoint.failing_since <= now - timedelta(seconds=flag_after_seconds),
            )
            .values(flagged_at=now)
        ).rowcount
        return bool(flagged)


def unsent_deliveries(engine: Engine, *, min_age_seconds: float, limit: int) -> list[str]:
    """Deliveries due this long with no message seen to take them (the hand-over after the
    commit failed, Redis lost it, or a worker died holding one); marked as enqueued now."""
    now = utcnow()
    overdue = now - timedelta(seconds=min_age_seconds)
    with transaction(engine, durable=False) as conn:
        found = list(
            conn.execute(
                select(D.id)
                .where(
                    or_(
                        and_(
                            D.status == DeliveryStatus.PENDING.value,
                            D.next_attempt_at <= overdue,
                            or_(D.enqueued_at.is_(None), D.enqueued_at <= overdue),
                        ),
                        and_(D.status == DeliveryStatus.SENDING.value, D.lease_until <= overdue),
                    )
                )
                .order_by(D.next_attempt_at)
                .limit(limit)
            ).scalars()
        )
        if found:
            conn.execute(update(NOTIFY_DELIVERIES).where(D.id.in_(found)).values(enqueued_at=now))
    return found


def list_deliveries(engine: Engine, status: str | None, limit: int) -> list[DeliveryRow]:
    """Deliveries (in `status`, when given), newest first."""
    query = (
        select(
            NOTIFY_DELIVERIES,
            NOTIFICATIONS.c.id.label("notification_id"),
            NOTIFICATIONS.c.type,
            NOTIFICATIONS.c.subject_id,
            NOTIFICATIONS.c.sequence,
            NOTIFY_ENDPOINTS.c.url,
        )
        .join(NOTIFICATIONS, NOTIFICATIONS.c.sequence == D.notification_sequence)
        .join(NOTIFY_ENDPOINTS, NOTIFY_ENDPOINTS.c.id == D.endpoint_id)
        .order_by(D.created_at.desc(), D.id.desc())
        .limit(limit)
    )
    if status:
        query = query.where(D.status == status)
    with engine.connect() as conn:
        return [
            DeliveryRow(
                delivery_id=row["id"],
                notification_id=row["notification_id"],
                event_type=row["type"],
                subject_id=row["subject_id"],
                sequence=row["sequence"],
                endpoint_id=row["endpoint_id"],
                url=row["url"],
                status=row["status"],
                attempts=row["attempts"],
                next_attempt_at=row["next_attempt_at"],
                last_status_code=row["last_status_code"],
                last_error=row["last_error"],
                created_at=row["created_at"],
                delivered_at=row["delivered_at"],
            )
            for row in conn.execute(query).mappings()
        ]


def resend(engine: Engine, notification_id: str) -> list[str]:
    """Every delivery of this notification not pending or in flight starts over (the same
    webhook-id, fresh attempts); their ids, to enqueue."""
    now = utcnow()
    with transaction(engine) as conn:
        sequence = conn.execute(
            select(NOTIFICATIONS.c.sequence).where(NOTIFICATIONS.c.id == notification_id)
        ).scalar()
        if sequence is None:
            return []
        settled = [DeliveryStatus.FAILED.value, DeliveryStatus.DELIVERED.value]
        condition = and_(D.notification_sequence == sequence, D.status.in_(settled))
        found = list(conn.execute(select(D.id).where(condition)).scalars())
        if found:
            conn.execute(
                update(NOTIFY_DELIVERIES)
                .where(D.id.in_(found), D.status.in_(settled))
                .values(
                    status=DeliveryStatus.PENDING.value,
                    attempts=0,
                    next_attempt_at=now,
                    enqueued_at=now,
                    delivered_at=None,
                    updated_at=now,
                )
            )
    return found
