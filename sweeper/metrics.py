"""The sweeper's repairs, counted: what it re-enqueued, recovered, reconciled and removed."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter

REGISTRY = CollectorRegistry()

EVENTS_ENQUEUED = Counter(
    "voicehook_sweeper_events_enqueued",
    "Events committed but never enqueued that the sweeper enqueued.",
    registry=REGISTRY,
)
LEASES_RECOVERED = Counter(
    "voicehook_sweeper_leases_recovered",
    "Events whose worker died (lease run out) or whose message was lost, enqueued again.",
    registry=REGISTRY,
)
JOBS_RECOVERED = Counter(
    "voicehook_sweeper_jobs_recovered",
    "Jobs and voices whose submission or clone was forgotten, enqueued again.",
    ["kind"],
    registry=REGISTRY,
)
RECONCILE_POLLS = Counter(
    "voicehook_sweeper_reconcile_polls",
    "Generations polled because their webhook never came.",
    registry=REGISTRY,
)
RECONCILE_FOUND = Counter(
    "voicehook_sweeper_reconcile_results",
    "What polls found: ready, failed (events made), rerun (a failed event run again), "
    "pending (not settled yet), missing (404).",
    ["result"],
    registry=REGISTRY,
)
PARTIALS_REMOVED = Counter(
    "voicehook_sweeper_partial_files_removed",
    "Partial download files killed workers left behind, removed.",
    registry=REGISTRY,
)
NOTIFICATIONS_ENQUEUED = Counter(
    "voicehook_sweeper_notifications_enqueued",
    "Notification deliveries committed but never enqueued that the sweeper enqueued.",
    registry=REGISTRY,
)
ALERTS_SENT = Counter(
    "voicehook_alert_notifications",
    "ALERT_WEBHOOK_URL posts, by outcome (sent, failed).",
    ["outcome"],
    registry=REGISTRY,
)

for _kind in ("job", "voice"):
    JOBS_RECOVERED.labels(_kind)
for _result in ("ready", "failed", "rerun", "pending", "missing"):
    RECONCILE_FOUND.labels(_result)
for _outcome in ("sent", "failed"):
    ALERTS_SENT.labels(_outcome)
