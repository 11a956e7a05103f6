"""Every metric family voicehook exports, collected from live registries: the receiver's,
the workers', the sweeper's, Dramatiq's middleware and the queue gauges."""

from __future__ import annotations

from datetime import timedelta

import pytest
from prometheus_client import CollectorRegistry, Metric
from prometheus_client.metrics import MetricWrapperBase

from monitoring.gauges import CachedSignals, QueueGauges
from monitoring.signals import QueueDepth, Signals
from processors import metrics as worker_metrics
from processors.budget_usage import BudgetUsage
from processors.message_metrics import MessageMetrics
from receiver.metrics import ReceiverMetrics
from records.health_reads import StoredCounts
from records.types import utcnow
from sweeper import metrics as sweeper_metrics


def full_snapshot() -> Signals:
    now = utcnow()
    return Signals(
        read_at=now,
        counts=StoredCounts({"failed": 1}, {"ready": 1}, now - timedelta(seconds=5), 0, []),
        queues={"events": QueueDepth(1, 0, 0)},
        workspace="ws",
        budget=BudgetUsage(1, 60, 0.0),
    )


def dramatiq_families(monkeypatch: pytest.MonkeyPatch, tmp_dir: str) -> list[Metric]:
    """Dramatiq's middleware's metrics, as a booted worker process makes them (the
    environment it sets is put back afterwards)."""
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", tmp_dir)
    monkeypatch.setenv("prometheus_multiproc_dir", tmp_dir)
    middleware = MessageMetrics()
    middleware.after_process_boot(None)  # type: ignore[no-untyped-call]
    found = [m for m in vars(middleware).values() if isinstance(m, MetricWrapperBase)]
    return [family for metric in found for family in metric.collect()]


def exported_families(monkeypatch: pytest.MonkeyPatch, tmp_dir: str) -> list[Metric]:
    registries: list[CollectorRegistry] = [
        ReceiverMetrics().registry,
        worker_metrics.REGISTRY,
        sweeper_metrics.REGISTRY,
    ]
    families = [family for registry in registries for family in registry.collect()]
    families.extend(QueueGauges(CachedSignals(full_snapshot)).collect())
    families.extend(dramatiq_families(monkeypatch, tmp_dir))
    return families


def sample_names(family: Metric) -> set[str]:
    """The names a scrape shows for `family` (a counter's `_total`, a histogram's parts)."""
    if family.type == "counter":
        return {family.name + "_total"}
    if family.type == "histogram":
        return {family.name + suffix for suffix in ("_bucket", "_count", "_sum")}
    return {family.name}


def documented_name(family: Metric) -> str:
    return family.name + "_total" if family.type == "counter" else family.name
