"""Reconciliation: attempts whose webhook never came are polled, at the lowest priority.

A terminal status found this way is stored as the event its webhook would have been, under
the same dedup key, and processed the same way; the webhook, if it comes later, is then a
duplicate.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from uuid import uuid4

import orjson
import structlog

from processors.budget import Priority
from processors.errors import NotFound, TransientApiError
from processors.worker import ProcessorContext
from records.envelope import parse_event
from records.event_store import EventStore, Incoming
from records.job_outcomes import mark_polled, overdue_attempts
from records.types import utcnow

log = structlog.get_logger(__name__)

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
    candidates = overdue_attempts(ctx.engine, ctx.reconcile_after_seconds, limit)
    created: list[str] = []
    for attempt_id, generation_id in candidates:
        try:
            generation = ctx.api.get_generation(generation_id, priority=Priority.LOW)
        except TransientApiError:
            break  # the budget is for others now, or the API is struggling: next sweep
        except NotFound:
            generation = None
        mark_polled(ctx.engine, attempt_id)
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
