"""The queue-level gauges: a Prometheus collector over `Signals`, read at most every few
seconds and never for longer than a time limit, so a scrape costs a bounded amount however
often it comes and however slow the database is."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from functools import partial

import structlog
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import Engine

from config.redis_connection import redis_client
from config.settings import Settings
from monitoring.signals import Signals, read_signals
from records.events import EventStatus
from records.jobs import JobStatus

log = structlog.get_logger(__name__)

CACHE_SECONDS = 5.0
READ_TIMEOUT_SECONDS = 2.0


class CachedSignals:
    """`read()` at most once per `cache_seconds`, waiting at most `timeout_seconds` for it.

    A read that takes longer goes on in the background (one at a time) and the last snapshot
    is served meanwhile; `fresh` says whether the snapshot served is the one just asked for.
    """

    def __init__(
        self,
        read: Callable[[], Signals],
        *,
        cache_seconds: float = CACHE_SECONDS,
        timeout_seconds: float = READ_TIMEOUT_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._read = read
        self._cache_seconds = cache_seconds
        self._timeout = timeout_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="signals")
        self._pending: Future[Signals] | None = None
        self._last: Signals | None = None
        self._last_at = float("-inf")
        self.fresh = False

    def get(self) -> Signals | None:
        with self._lock:
            if self._clock() - self._last_at < self._cache_seconds:
                self.fresh = True
                return self._last
            if self._pending is None:
                self._pending = self._pool.submit(self._read)
            pending = self._pending
        try:
            signals = pending.result(timeout=self._timeout)
        except FutureTimeout:
            self.fresh = False
            return self._last
        except Exception as exc:  # the store did not answer: say so in the gauges, not a 500
            log.warning("signals.read_failed", error=f"{type(exc).__name__}: {exc}")
            with self._lock:
                self._pending = None if self._pending is pending else self._pending
            self.fresh = False
            return self._last
        with self._lock:
            if self._pending is pending:
                self._pending = None
                self._last, self._last_at = signals, self._clock()
        self.fresh = True
        return signals


class QueueGauges(Collector):
    """Gauges of what the database and Redis hold, from one cached snapshot per scrape."""

    def __init__(self, signals: CachedSignals) -> None:
        self._signals = signals

    def collect(self) -> Iterator[Metric]:
        snapshot = self._signals.get()
        up = GaugeMetricFamily(
            "voicehook_signals_up",
            "1 when the database and Redis answered this scrape's read in time, else 0.",
        )
        up.add_metric([], 1.0 if snapshot is not None and self._signals.fresh else 0.0)
        yield up
        if snapshot is None:
            return
        yield from gauges_of(snapshot)


def queue_gauges(settings: Settings, engine: Engine) -> QueueGauges:
    """The gauges of this deployment's database and Redis (none of Redis without REDIS_URL)."""
    client = redis_client(settings.redis_url) if settings.redis_url else None
    return QueueGauges(CachedSignals(partial(read_signals, settings, engine, client)))


def gauges_of(snapshot: Signals) -> Iterator[Metric]:
    """The snapshot as gauge families; every status appears, 0 when none is in it."""
    counts = snapshot.counts
    events = GaugeMetricFamily("voicehook_events", "Stored events by status.", labels=["status"])
    for status in EventStatus:
        events.add_metric([status.value], counts.events_by_status.get(status.value, 0))
    yield events
    jobs = GaugeMetricFamily("voicehook_jobs", "Audio jobs by status.", labels=["status"])
    for job_status in JobStatus:
        jobs.add_metric([job_status.value], counts.jobs_by_status.get(job_status.value, 0))
    yield jobs
    yield _single(
        "voicehook_jobs_blocked",
        "Jobs blocked on insufficient credits (until `voicehook jobs resume`).",
        counts.jobs_by_status.get(JobStatus.BLOCKED.value, 0),
    )
    yield _single(
        "voicehook_oldest_unprocessed_event_age_seconds",
        "Age of the oldest event received, queued or processing (0 when none).",
        snapshot.oldest_unprocessed_age_seconds,
    )
    yield _single(
        "voicehook_events_stuck",
        "Events processing past their lease or queued and untouched too long.",
        counts.stuck_events,
    )
    yield _single(
        "voicehook_notify_endpoints_flagged",
        "Notification endpoints failing long enough to be flagged.",
        len(counts.flagged_endpoints),
    )
    if snapshot.queues:
        depth = GaugeMetricFamily(
            "voicehook_queue_messages",
            "Broker messages by queue and state (waiting, delayed, dead).",
            labels=["queue", "state"],
        )
        dead = GaugeMetricFamily(
            "voicehook_dead_letters", "Dead-lettered messages by queue.", labels=["queue"]
        )
        for queue, found in snapshot.queues.items():
            depth.add_metric([queue, "waiting"], found.waiting)
            depth.add_metric([queue, "delayed"], found.delayed)
            depth.add_metric([queue, "dead"], found.dead)
            dead.add_metric([queue], found.dead)
        yield depth
        yield dead
    if snapshot.budget is not None and snapshot.workspace is not None:
        labels = ["workspace"]
        budget = snapshot.budget
        for name, doc, value in (
            ("voicehook_budget_slots_used", "API budget slots taken this window.", budget.used),
            ("voicehook_budget_slots_available", "API budget slots free.", budget.available),
            ("voicehook_budget_slots_limit", "API budget slots per window.", budget.limit),
            (
                "voicehook_budget_blocked_seconds",
                "Seconds a 429 still holds every process back.",
                budget.blocked_seconds,
            ),
        ):
            family = GaugeMetricFamily(name, doc, labels=labels)
            family.add_metric([snapshot.workspace], value)
            yield family


def _single(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, documentation)
    family.add_metric([], value)
    return family
