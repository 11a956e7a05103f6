"""Rows of the states the signals count, written straight to the tables of a real database."""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import uuid4

from sqlalchemy import Engine, insert, update

from config.database import transaction
from records.events import EVENTS
from records.jobs import JOBS
from records.outbox_tables import NOTIFY_ENDPOINTS
from records.types import utcnow


def add_event(
    engine: Engine,
    status: str,
    *,
    age: timedelta = timedelta(0),
    started_ago: timedelta | None = None,
) -> str:
    """An event in `status`, received `age` ago (and updated then)."""
    event_id = str(uuid4())
    at = utcnow() - age
    with transaction(engine) as conn:
        conn.execute(
            insert(EVENTS).values(
                id=event_id,
                type="generation.ready",
                resource_id=f"gen_{event_id[:8]}",
                dedup_key=f"generation.ready:{event_id}",
                status=status,
                attempts=0,
                received_at=at,
                updated_at=at,
                started_at=None if started_ago is None else utcnow() - started_ago,
            )
        )
    return event_id


def add_job(engine: Engine, status: str) -> str:
    job_id = str(uuid4())
    now = utcnow()
    with transaction(engine) as conn:
        conn.execute(
            insert(JOBS).values(
                id=job_id,
                tracked=True,
                format="wav",
                settings={},
                status=status,
                attempts_made=0,
                max_attempts=3,
                credits=0,
                created_at=now,
                updated_at=now,
            )
        )
    return job_id


def add_endpoint(engine: Engine, url: str, *, flagged_at: datetime | None) -> None:
    now = utcnow()
    with transaction(engine) as conn:
        conn.execute(
            insert(NOTIFY_ENDPOINTS).values(
                id=str(uuid4()),
                url=url,
                source="db",
                event_types=[],
                created_at=now,
                updated_at=now,
                flagged_at=flagged_at,
            )
        )


def settle_all(engine: Engine, status: str) -> None:
    with transaction(engine) as conn:
        conn.execute(update(EVENTS).values(status=status))
