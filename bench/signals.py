"""`python -m bench signals`: what one read of the health snapshot costs with a large table.

A fresh database (SQLite file or PostgreSQL schema) gets `events` events spread over every
status (a few percent unprocessed, as in a deployment that keeps up), and `jobs` jobs; then
the snapshot `/metrics`, `voicehook status` and the alerts read (`monitoring.signals`) is
read `reads` times, alternating with the baseline measured the same way in the same run: one
`SELECT 1` round trip on the same engine plus one Redis PING, the least any read of both
stores costs. Printed: each one's percentiles, and `ratio=<snapshot p50 ÷ baseline p50>`.
The queue gauges cache a snapshot for 5 s and give a read 2 s at most, so a scrape costs at
most one such read per 5 s whatever the scrape rate.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import redis
from sqlalchemy import Engine, insert, text

from bench.databases import DatabaseKind, bench_database, prepare
from bench.percentiles import LatencySummary, format_latency
from bench.report import format_ratio
from bench.throwaway_redis import throwaway_redis
from bench.verify import Check
from config.database import make_engine
from config.redis_connection import redis_client
from config.settings import Settings
from monitoring.signals import Signals, read_signals
from records.events import EVENTS
from records.jobs import JOBS
from records.types import utcnow

Echo = Callable[[str], None]
BATCH = 5_000
# Of every 100 events: this many in each status (the rest processed).
SHARES = {"received": 1, "queued": 2, "processing": 1, "failed": 3, "ignored": 3}
STATUSES = [s for s, n in SHARES.items() for _ in range(n)]
STATUSES += ["processed"] * (100 - len(STATUSES))


@dataclass(frozen=True)
class SignalsOptions:
    database: DatabaseKind = DatabaseKind.SQLITE
    database_url: str | None = None
    events: int = 100_000
    jobs: int = 20_000
    reads: int = 50


def run_signals_bench(options: SignalsOptions, workdir: Path, echo: Echo) -> bool:
    """Fill, measure, check, print; whether every check passed."""
    with (
        bench_database(options.database, options.database_url, workdir) as url,
        throwaway_redis(workdir) as redis_url,
    ):
        prepare(url)
        settings = Settings(database_url=url, redis_url=redis_url, vpai_api_key="vk_bench_x")
        engine = make_engine(settings)
        client = redis_client(redis_url)
        try:
            started = time.perf_counter()
            fill(engine, options.events, options.jobs)
            echo(
                f"{options.database.value}: {options.events} events, {options.jobs} jobs "
                f"stored in {time.perf_counter() - started:.1f}s"
            )
            snapshot, baseline = measure(
                lambda: read_signals(settings, engine, client),
                lambda: _round_trips(engine, client),
                options.reads,
            )
            checks = verify(read_signals(settings, engine, client), options)
        finally:
            engine.dispose()
            client.close()
    echo(format_latency("baseline (SELECT 1 + PING)", baseline))
    echo(format_latency("snapshot read", snapshot))
    for check in checks:
        echo(check.line())
    echo(format_ratio(snapshot.p50 / baseline.p50))
    return all(check.passed for check in checks)


def verify(signals: Signals, options: SignalsOptions) -> list[Check]:
    """The snapshot read counted what was stored."""
    events = sum(signals.counts.events_by_status.values())
    jobs = sum(signals.counts.jobs_by_status.values())
    unprocessed = sum(
        1 for i in range(options.events) if _status(i) in ("received", "queued", "processing")
    )
    return [
        Check("events", events == options.events, f"{events} of {options.events} counted"),
        Check("jobs", jobs == options.jobs, f"{jobs} of {options.jobs} counted"),
        Check(
            "backlog",
            signals.backlog == unprocessed,
            f"{signals.backlog} unprocessed counted, {unprocessed} stored",
        ),
    ]


def _status(index: int) -> str:
    return STATUSES[index % 100]


def fill(engine: Engine, events: int, jobs: int) -> None:
    now = utcnow()
    for start in range(0, events, BATCH):
        rows = []
        for i in range(start, min(events, start + BATCH)):
            at = now - timedelta(seconds=events - i)
            event_id = str(uuid.uuid4())
            rows.append(
                {
                    "id": event_id,
                    "type": "generation.ready",
                    "resource_id": f"gen_{i}",
                    "dedup_key": f"generation.ready:gen_{i}",
                    "status": _status(i),
                    "attempts": 1,
                    "received_at": at,
                    "updated_at": at,
                    "started_at": at if _status(i) == "processing" else None,
                }
            )
        with engine.begin() as conn:
            conn.execute(insert(EVENTS), rows)
    job_states = ["ready"] * 90 + ["failed"] * 5 + ["submitted"] * 4 + ["blocked"]
    for start in range(0, jobs, BATCH):
        job_rows = [
            {
                "id": str(uuid.uuid4()),
                "tracked": True,
                "format": "wav",
                "settings": {},
                "status": job_states[i % 100],
                "attempts_made": 1,
                "max_attempts": 3,
                "credits": 0,
                "created_at": now,
                "updated_at": now,
            }
            for i in range(start, min(jobs, start + BATCH))
        ]
        with engine.begin() as conn:
            conn.execute(insert(JOBS), job_rows)


def measure(
    read: Callable[[], object], baseline: Callable[[], object], reads: int
) -> tuple[LatencySummary, LatencySummary]:
    """Each `reads` times, alternating (one warm-up of each first, not counted)."""
    read()
    baseline()
    timed: dict[str, list[float]] = {"read": [], "baseline": []}
    for _ in range(reads):
        for name, call in (("read", read), ("baseline", baseline)):
            started = time.perf_counter()
            call()
            timed[name].append(time.perf_counter() - started)
    return LatencySummary.of(timed["read"]), LatencySummary.of(timed["baseline"])


def _round_trips(engine: Engine, client: redis.Redis) -> None:
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    client.ping()
