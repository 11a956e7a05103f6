"""Prometheus metrics of the receiver, in a registry of the app's own."""

from __future__ import annotations

import time
from enum import StrEnum

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.registry import Collector

from monitoring.exposition import exported_registry
from receiver.outcome_tally import MinuteTally

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.015, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class DeliveryOutcome(StrEnum):
    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"
    INVALID_SIGNATURE = "invalid_signature"
    INVALID_PAYLOAD = "invalid_payload"
    TOO_LARGE = "too_large"
    UNAVAILABLE = "unavailable"


_STORED = frozenset({DeliveryOutcome.ACCEPTED, DeliveryOutcome.DUPLICATE})


class ReceiverMetrics:
    """Counters and histograms the receiver updates; one set per app."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        self.deliveries = Counter(
            "voicehook_webhook_deliveries",
            "Webhook deliveries by outcome.",
            ["outcome"],
            registry=self.registry,
        )
        self.ack_latency = Histogram(
            "voicehook_webhook_ack_seconds",
            "Time from request start to acknowledgement, by outcome.",
            ["outcome"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.older_secret = Counter(
            "voicehook_webhook_older_secret_matches",
            "Deliveries verified by a secret other than the newest (rotation in progress).",
            ["secret_index"],
            registry=self.registry,
        )
        self.enqueue_failures = Counter(
            "voicehook_enqueue_failures",
            "Events committed but not enqueued because the broker failed (left to the sweeper).",
            registry=self.registry,
        )
        self.writer_restarts = Counter(
            "voicehook_ingest_writer_restarts",
            "Writer processes that exited unexpectedly and were replaced.",
            registry=self.registry,
        )
        for outcome in DeliveryOutcome:
            self.deliveries.labels(outcome.value)
        self._latency = {o: self.ack_latency.labels(o.value) for o in DeliveryOutcome}
        self._count = {o: self.deliveries.labels(o.value) for o in DeliveryOutcome}
        # Refusals per minute for the dashboard (accepted and duplicate ones are in the
        # database, counted there across every process).
        self.refusals = MinuteTally()

    def observe(self, outcome: DeliveryOutcome, seconds: float) -> None:
        self._count[outcome].inc()
        self._latency[outcome].observe(seconds)
        if outcome not in _STORED:
            self.refusals.add(outcome.value, time.time())

    def render(self, *extra: Collector) -> bytes:
        """The exposition text, and `extra`'s; merged across processes when
        PROMETHEUS_MULTIPROC_DIR is set."""
        return generate_latest(exported_registry(*extra, own=[self.registry]))
