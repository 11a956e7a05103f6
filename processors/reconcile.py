"""Reconciliation: attempts whose webhook never came are polled, at the lowest priority.

A terminal status found this way is stored as the event its webhook would have been, under
the same dedup key, and processed the same way; the webhook, if it comes later, is then a
duplicate.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import timedelta
from uuid import uuid4

import orjson
import structlog
from sqlalchemy import Engine, or_, select, update

from config.database import session_scope
from processors.budget import Priority
from processors.errors import NotFound, TransientApiError
from processors.worker import ProcessorContext
from records.envelope import parse_event
from records.event_store import EventStore, Incoming
from records.jobs import Attempt, AttemptStatus
from records.types import utcnow

log = structlog.get_logger(__name__)

ATTEMPTS = Attempt.metadata.tables["attempts"]
TERMINAL = {"ready": "generation.ready", "failed": "generation.failed"}
RECONCILER_FINGERPRINT = "reconciler"


def reconcile_once(
    ctx: ProcessorContext,
    store: EventStore,
    enqueue_events: Callable[[Sequence[str]], None],
    *,
    limit: int = 20,
) -> int:
    """Poll up to `limit` overdue attempts while the low-priority budget allows; events made."""
    now = utcnow()
    overdue = now - timedelta(seconds=ctx.reconcile_after_seconds)
    with session_scope(ctx.engine, write=False) as session:
        candidates = list(
            session.execute(
                select(ATTEMPTS.c.id, ATTEMPTS.c.generation_id)
                .where(
                    ATTEMPTS.c.status == AttemptStatus.SUBMITTED.value,
                    ATTEMPTS.c.submitted_at <= overdue,
                    or_(
                        ATTEMPTS.c.last_polled_at.is_(None),
                        ATTEMPTS.c.last_polled_at <= overdue,
                    ),
                )
                .order_by(ATTEMPTS.c.submitted_at)
                .limit(limit)
            )
        )
    created: list[str] = []
    for attempt_id, generation_id in candidates:
        try:
            generation = ctx.api.get_generation(generation_id, priority=Priority.LOW)
        except TransientApiError:
            break  # the budget is for others now, or the API is struggling: next sweep
        except NotFound:
            generation = None
        _mark_polled(ctx.engine, attempt_id)
        if generation is None or generation.status not in TERMINAL:
            continue
        body = orjson.dumps(
            {
                "event": TERMINAL[generation.status],
                "timestamp": utcnow().isoformat().replace("+00:00", "Z"),
                "data": generation.raw,
            }
        )
        incoming = Incoming(
            event_id=str(uuid4()),
            event=parse_event(body),
            body=body,
            headers={"x-voicehook-source": "reconciliation"},
            remote_addr=None,
            secret_fingerprint=RECONCILER_FINGERPRINT,
            received_at=utcnow(),
        )
        [outcome] = store.persist([incoming])
        if outcome.created:
            created.append(outcome.event_id)
            log.info("reconcile.found", generation_id=generation_id, status=generation.status)
    enqueue_events(created)
    return len(created)


def _mark_polled(engine: Engine, attempt_id: str) -> None:
    with session_scope(engine) as session:
        session.execute(
            update(ATTEMPTS).where(ATTEMPTS.c.id == attempt_id).values(last_polled_at=utcnow())
        )
