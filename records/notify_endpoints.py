"""The business app's endpoints: those of `NOTIFY_URLS` (kept in step with the environment
at start-up, their secret never stored) and those added with `voicehook endpoints add`."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, delete, func, insert, inspect, select, update
from sqlalchemy.exc import IntegrityError

from config.database import transaction
from records.errors import EnvironmentEndpoint
from records.ids import new_id
from records.outbox_tables import (
    NOTIFY_DELIVERIES,
    NOTIFY_ENDPOINTS,
    DeliveryStatus,
    EndpointSource,
)
from records.types import utcnow

E = NOTIFY_ENDPOINTS.c


@dataclass(frozen=True)
class Endpoint:
    """An endpoint as `voicehook endpoints list` shows it (no secret)."""

    id: str
    url: str
    source: str
    event_types: list[str]
    max_in_flight: int | None
    rotating_until: datetime | None
    failing_since: datetime | None
    flagged_at: datetime | None
    last_success_at: datetime | None
    last_error: str | None
    pending: int
    failed: int


def env_endpoint_id(url: str) -> str:
    """A NOTIFY_URLS endpoint's id: the same in every process that reads the same URL."""
    return "env-" + hashlib.sha256(url.encode()).hexdigest()[:32]


def sync_env_endpoints(engine: Engine, urls: Sequence[str]) -> None:
    """Make the NOTIFY_URLS endpoints exactly `urls` (those gone are removed with their
    deliveries); safe to run in several processes at once. Nothing to do on a database not
    migrated yet (a process may start before `voicehook db upgrade`; the next start syncs)."""
    if not inspect(engine).has_table(NOTIFY_ENDPOINTS.name):
        return
    wanted = {env_endpoint_id(url): url for url in urls}
    now = utcnow()
    with transaction(engine) as conn:
        present = set(
            conn.execute(select(E.id).where(E.source == EndpointSource.ENV.value)).scalars()
        )
        gone = present - set(wanted)
        if gone:
            conn.execute(delete(NOTIFY_ENDPOINTS).where(E.id.in_(sorted(gone))))
    for endpoint_id in sorted(set(wanted) - present):
        try:
            with transaction(engine) as conn:
                conn.execute(
                    insert(NOTIFY_ENDPOINTS).values(
                        id=endpoint_id,
                        url=wanted[endpoint_id],
                        source=EndpointSource.ENV.value,
                        event_types=[],
                        created_at=now,
                        updated_at=now,
                    )
                )
        except IntegrityError:
            pass  # another process added it a moment ago


def add_endpoint(
    engine: Engine,
    url: str,
    *,
    secret: str,
    event_types: Sequence[str],
    max_in_flight: int | None,
) -> str:
    """A new endpoint taking `event_types` (empty: all); its id."""
    now = utcnow()
    endpoint_id = new_id()
    with transaction(engine) as conn:
        conn.execute(
            insert(NOTIFY_ENDPOINTS).values(
                id=endpoint_id,
                url=url,
                source=EndpointSource.DATABASE.value,
                event_types=list(event_types),
                secret=secret,
                max_in_flight=max_in_flight,
                created_at=now,
                updated_at=now,
            )
        )
    return endpoint_id


def list_endpoints(engine: Engine) -> list[Endpoint]:
    """Every endpoint, oldest first, with its pending and dead-lettered delivery counts."""
    now = utcnow()
    counts = (
        select(
            NOTIFY_DELIVERIES.c.endpoint_id,
            NOTIFY_DELIVERIES.c.status,
            func.count().label("n"),
        )
        .where(
            NOTIFY_DELIVERIES.c.status.in_(
                [DeliveryStatus.PENDING.value, DeliveryStatus.FAILED.value]
            )
        )
        .group_by(NOTIFY_DELIVERIES.c.endpoint_id, NOTIFY_DELIVERIES.c.status)
    )
    with engine.connect() as conn:
        tally = {(e, s): n for e, s, n in conn.execute(counts)}
        rows = conn.execute(select(NOTIFY_ENDPOINTS).order_by(E.created_at, E.id)).mappings()
        return [
            Endpoint(
                id=row["id"],
                url=row["url"],
                source=row["source"],
                event_types=list(row["event_types"] or []),
                max_in_flight=row["max_in_flight"],
                rotating_until=row["previous_secret_expires_at"]
                if row["previous_secret"]
                and (
                    row["previous_secret_expires_at"] is None
                    or row["previous_secret_expires_at"] > now
                )
                else None,
                failing_since=row["failing_since"],
                flagged_at=row["flagged_at"],
                last_success_at=row["last_success_at"],
                last_error=row["last_error"],
                pending=tally.get((row["id"], DeliveryStatus.PENDING.value), 0),
                failed=tally.get((row["id"], DeliveryStatus.FAILED.value), 0),
            )
            for row in rows
        ]


def remove_endpoint(engine: Engine, endpoint_id: str) -> bool:
    """Remove an added endpoint and its deliveries; False if there is none by that id."""
    with transaction(engine) as conn:
        _refuse_env(conn.execute(select(E.source).where(E.id == endpoint_id)).scalar())
        return bool(conn.execute(delete(NOTIFY_ENDPOINTS).where(E.id == endpoint_id)).rowcount)


def rotate_secret(
    engine: Engine, endpoint_id: str, new_secret: str, *, keep_previous_seconds: float
) -> bool:
    """Sign with `new_secret` from now on, and with the current one too for this long (so
    the app can switch without a gap); False if there is no such endpoint."""
    now = utcnow()
    with transaction(engine) as conn:
        _refuse_env(conn.execute(select(E.source).where(E.id == endpoint_id)).scalar())
        changed = conn.execute(
            update(NOTIFY_ENDPOINTS)
            .where(E.id == endpoint_id)
            .values(
                previous_secret=E.secret,
                previous_secret_expires_at=now + timedelta(seconds=keep_previous_seconds),
                secret=new_secret,
                updated_at=now,
            )
        ).rowcount
        return bool(changed)


def _refuse_env(source: str | None) -> None:
    if source == EndpointSource.ENV.value:
        raise EnvironmentEndpoint(
            "this endpoint comes from NOTIFY_URLS (signed with NOTIFY_SECRET): change the "
            "environment instead"
        )
