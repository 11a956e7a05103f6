"""Put selected events back to `queued` and enqueue them again, once each.

Safe because the workers are idempotent: a worker claims an event, asks its handler to do
what is still left, and a handler of an event whose effects are already there changes
nothing (a ready job stays ready, a recorded failure is not retried twice). So reprocessing
a processed event is a no-op downstream, and reprocessing a failed one, once its cause is
fixed, does the work that failed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Engine

from config.broker import EnqueueIds
from records.event_queue import requeue_events
from records.event_reads import EventFilter, event_states
from records.events import EventStatus

BATCH = 500
HELD = "a worker is processing it now (the sweeper takes over if that worker died)"
NO_BODY = "its delivery bodies were pruned, so a worker would have no data to act on"


def skip_reason(status: str, has_body: bool) -> str | None:
    """Why an event cannot be reprocessed, or None when it can."""
    if status == EventStatus.PROCESSING:
        return HELD
    if not has_body:
        return NO_BODY
    return None


@dataclass
class ReprocessResult:
    selected: int = 0
    requeued: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)  # event id -> reason
    dry_run: bool = False


def reprocess(
    engine: Engine, selection: EventFilter, enqueue: EnqueueIds, *, dry_run: bool = False
) -> ReprocessResult:
    """Requeue the selected events (or, dry, say which would be); enqueue each exactly once.

    Each batch is marked `queued` (finished_at cleared; attempts and last_error kept as
    history until a worker settles it again), enqueued, then committed: a worker that takes
    the message before the commit waits on the row lock and then sees `queued`. If Redis
    refuses, that batch is rolled back and the error propagates (BrokerUnavailable); the
    batches before it stay done.
    """
    result = ReprocessResult(dry_run=dry_run)
    eligible: list[str] = []
    for event_id, status, stored in event_states(engine, selection):
        result.selected += 1
        reason = skip_reason(status, stored)
        if reason:
            result.skipped[event_id] = reason
        else:
            eligible.append(event_id)
    if dry_run:
        result.requeued = eligible
        return result
    for start in range(0, len(eligible), BATCH):
        chunk = eligible[start : start + BATCH]
        done = requeue_events(engine, chunk, enqueue)
        result.requeued.extend(done)
        for event_id in set(chunk) - set(done):
            result.skipped[event_id] = HELD
    return result
