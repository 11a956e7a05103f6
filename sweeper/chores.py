"""The sweeper's chores, each a repair of what a crash or an outage can leave behind.

Every chore is settled from the database, the store of record, and is safe with several
sweepers running: a message sent twice is absorbed by the idempotent workers.
"""

from __future__ import annotations

from datetime import timedelta
from functools import partial
from pathlib import Path

import httpx
import structlog
from sqlalchemy import Engine

from config.broker import (
    BatchingRedisBroker,
    EnqueueIds,
    enqueue_clone,
    enqueue_events,
    enqueue_notifications,
    enqueue_submissions,
)
from config.errors import ConfigurationError
from config.settings import Settings
from monitoring.alert_store import AlertStore
from monitoring.alert_webhook import AlertNotifier
from monitoring.signals import read_signals
from processors.download import remove_stale_partials
from processors.worker import build_context
from records.event_queue import enqueue_received, requeue_stalled
from records.event_store import EventStore
from records.idempotency import prune_keys
from records.job_repo import recover_jobs
from records.outbox_delivery import unsent_deliveries
from records.types import utcnow
from records.unknown_outcomes import settle_unknown_submissions
from records.voice_repo import recover_voices
from sweeper import metrics
from sweeper.loop import Chore
from sweeper.reconcile import reconcile_once

log = structlog.get_logger(__name__)

VOICES_PER_ROUND = 100


def build_chores(settings: Settings, engine: Engine, broker: BatchingRedisBroker) -> list[Chore]:
    """Every chore, in the order a round runs them (reconciliation only with an API key)."""
    limit = settings.sweeper_batch_size
    enqueue = partial(enqueue_events, broker)
    forgotten_after = max(60.0, settings.sweeper_min_age_seconds * 2)

    def enqueue_received_events() -> bool:
        found = enqueue_received(
            engine, enqueue, min_age_seconds=settings.sweeper_min_age_seconds, limit=limit
        )
        if found:
            metrics.EVENTS_ENQUEUED.inc(found)
            log.info("sweeper.enqueued", events=found)
        return found >= limit

    def requeue_stalled_events() -> bool:
        found = requeue_stalled(
            engine,
            enqueue,
            lease_seconds=settings.event_lease_seconds,
            stuck_after_seconds=settings.sweeper_stuck_after_seconds,
            limit=limit,
        )
        if found:
            metrics.LEASES_RECOVERED.inc(found)
            log.warning("sweeper.requeued_stalled", events=found)
        return found >= limit

    def recover_submissions() -> bool:
        found = recover_jobs(
            engine,
            partial(enqueue_submissions, broker),
            forgotten_after_seconds=forgotten_after,
            submitting_lease_seconds=settings.submitting_lease_seconds,
            limit=limit,
        )
        metrics.JOBS_RECOVERED.labels("job").inc(found)
        return found >= limit

    def settle_unknown() -> bool:
        swept = settle_unknown_submissions(
            engine,
            lease_seconds=settings.submitting_lease_seconds,
            review_after_seconds=settings.submission_review_after_seconds,
            limit=limit,
        )
        if swept.marked_unknown:
            log.warning("sweeper.submission_outcome_unknown", jobs=swept.marked_unknown)
        if swept.needs_review:
            log.warning("sweeper.jobs_need_review", jobs=swept.needs_review)
        return len(swept.marked_unknown) >= limit or len(swept.needs_review) >= limit

    def sweep_partials() -> bool:
        # Older than a worker's lease: no live download stalls that long. One pass is enough.
        removed = remove_stale_downloads(settings.audio_dir, settings.event_lease_seconds)
        metrics.PARTIALS_REMOVED.inc(removed)
        return False

    def recover_clones() -> bool:
        found = recover_voices(
            engine,
            partial(enqueue_clone, broker),
            forgotten_after_seconds=forgotten_after,
            limit=VOICES_PER_ROUND,
        )
        metrics.JOBS_RECOVERED.labels("voice").inc(found)
        return found >= VOICES_PER_ROUND

    def send_unsent_notifications() -> bool:
        found = unsent_deliveries(
            engine, min_age_seconds=settings.sweeper_min_age_seconds, limit=limit
        )
        enqueue_notifications(broker, found)
        if found:
            metrics.NOTIFICATIONS_ENQUEUED.inc(len(found))
            log.info("sweeper.enqueued_notifications", deliveries=len(found))
        return len(found) >= limit

    def prune_idempotency_keys() -> bool:
        kept_for = timedelta(hours=settings.idempotency_key_hours)
        pruned = prune_keys(engine, utcnow() - kept_for)
        if pruned:
            log.info("sweeper.pruned_idempotency_keys", keys=pruned)
        return False

    chores = [
        Chore("enqueue_received_events", enqueue_received_events),
        Chore("send_unsent_notifications", send_unsent_notifications),
        Chore("requeue_stalled_events", requeue_stalled_events),
        Chore("recover_jobs", recover_submissions),
        Chore("settle_unknown_submissions", settle_unknown),
        Chore("remove_stale_downloads", sweep_partials),
        Chore("recover_voices", recover_clones),
        Chore("prune_idempotency_keys", prune_idempotency_keys),
    ]
    reconcile = _reconciliation(settings, engine, enqueue)
    if reconcile is not None:
        chores.append(reconcile)
    if settings.alert_webhook_url is not None:
        chores.append(alert_chore(settings, engine, broker))
    return chores


def alert_chore(settings: Settings, engine: Engine, broker: BatchingRedisBroker) -> Chore:
    """Tell ALERT_WEBHOOK_URL of each alert that started or ended since the last round."""
    client = broker.client
    notifier = AlertNotifier(
        settings,
        AlertStore(client),
        httpx.Client(timeout=settings.alert_timeout_seconds, follow_redirects=False),
    )

    def notify_alerts() -> bool:
        result = notifier.round(read_signals(settings, engine, client))
        metrics.ALERTS_SENT.labels("sent").inc(result.sent)
        metrics.ALERTS_SENT.labels("failed").inc(result.failed)
        return False

    return Chore("notify_alerts", notify_alerts)


def _reconciliation(settings: Settings, engine: Engine, enqueue: EnqueueIds) -> Chore | None:
    try:
        context = build_context(settings, engine)
    except ConfigurationError as exc:
        log.warning("sweeper.no_reconciliation", reason=str(exc))
        return None
    store = EventStore(engine)
    return Chore("reconcile", lambda: reconcile_once(context, store, enqueue) > 0)


def remove_stale_downloads(audio_dir: Path, older_than_seconds: float) -> int:
    """Delete partial files killed downloads left in AUDIO_DIR's folders; how many."""
    if not audio_dir.is_dir():
        return 0
    folders = [audio_dir, *(p for p in audio_dir.iterdir() if p.is_dir())]
    return sum(len(remove_stale_partials(folder, older_than_seconds)) for folder in folders)
