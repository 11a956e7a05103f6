"""Reconciliation: attempts whose webhook never came are polled, at the lowest priority.

A terminal status found this way is stored as the event its webhook would have been, under
the same dedup key, and processed the same way; the webhook, if it comes later, is then a
duplicate. A terminal status whose event failed runs that event again. A generation is
polled at most `RECONCILE_MAX_POLLS` times, each wait twice the last; then its job goes to
review, saying so.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from uuid import uuid4

import orjson
import structlog

from processors.budget import Priority
from processors.errors import NotFound, TransientApiError
from processors.vpai import Generation
from processors.worker import ProcessorContext
from records.envelope import parse_event
from records.event_queue import requeue_events
from records.event_store import EventStore, Incoming, Outcome
from records.events import EventStatus
from records.job_outcomes import mark_polled, overdue_attempts, surface_unsettled
from records.types import utcnow
from sweeper import metrics

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
    """Poll up to `limit` overdue attempts while the low-priority budget allows; events made
    (or failed ones run again)."""
    candidates = overdue_attempts(ctx.engine, ctx.reconcile_after_seconds, limit)
    created: list[str] = []
    rerun = 0
    for overdue in candidates:
        try:
            generation = ctx.api.get_generation(overdue.generation_id, priority=Priority.LOW)
        except TransientApiError:
            break  # the budget is for others now, or the API is struggling: next sweep
        except NotFound:
            generation = None
        metrics.RECONCILE_POLLS.inc()
        polls = overdue.polls + 1
        mark_polled(
            ctx.engine, overdue.attempt_id, next_poll_in(ctx.reconcile_after_seconds, polls)
        )
        if generation is None or generation.status not in TERMINAL:
            metrics.RECONCILE_FOUND.labels("missing" if generation is None else "pending").inc()
            if polls >= ctx.reconcile_max_polls:
                _surface(ctx, overdue.attempt_id, overdue.generation_id, generation, polls)
            continue
        outcome = _store_as_event(store, generation)
        if outcome.created:
            metrics.RECONCILE_FOUND.labels(generation.status).inc()
            created.append(outcome.event_id)
            log.info(
                "reconcile.found", generation_id=overdue.generation_id, status=generation.status
            )
        elif outcome.status == EventStatus.FAILED:
            # Its webhook's event failed (a download, say): run it again, not a duplicate.
            rerun += len(requeue_events(ctx.engine, [outcome.event_id], enqueue_events))
            metrics.RECONCILE_FOUND.labels("rerun").inc()
            log.info(
                "reconcile.rerun", generation_id=overdue.generation_id, event_id=outcome.event_id
            )
    enqueue_events(created)
    return len(created) + rerun


def next_poll_in(reconcile_after_seconds: float, polls: int) -> float:
    """The wait before the next poll, after `polls` of them: twice the last one."""
    return float(reconcile_after_seconds * 2 ** max(polls - 1, 0))


def _surface(
    ctx: ProcessorContext,
    attempt_id: str,
    generation_id: str,
    generation: Generation | None,
    polls: int,
) -> None:
    status = "unknown to the API" if generation is None else f"still {generation.status!r}"
    reason = (
        f"generation {generation_id} {status} after {polls} polls: no longer polled; its "
        "webhook still settles the job if it comes, or `voicehook jobs resubmit` makes a "
        "new (paid) generation"
    )
    job_id = surface_unsettled(ctx.engine, attempt_id, reason)
    log.warning("reconcile.gave_up", generation_id=generation_id, job_id=job_id, polls=polls)


def _store_as_event(store: EventStore, generation: Generation) -> Outcome:
    """The terminal status, stored as the event its webhook would have been."""
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
    return outcome
