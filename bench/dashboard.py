"""`python -m bench dashboard`: the overview's counts on a database of a million events.

Each database (SQLite, and PostgreSQL when a URL is given) is migrated fresh and filled by
the database itself (`bench/dashboard_fill.py`), analysed, then the overview's queries
(`records.dashboard_counts.overview`: events and jobs by status, deliveries per minute of
the last hour, the oldest waiting event) run `runs` times after one warm-up. Printed: the
rows, the median and p95 of the whole overview and of each query, and the baseline
measured in the same run the same way (`SELECT 1`: one round trip, what no query beats).
The goal is 100 ms (issue 16); the last line is `ratio=<slowest p95 ÷ 100 ms>` (1 or
less: goal met).
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, func, select, text

from bench.dashboard_fill import fill
from bench.databases import DatabaseKind, bench_database, prepare
from bench.report import format_ratio, redact_url
from bench.verify import Check
from config.database import make_engine
from config.settings import Settings
from records.dashboard_counts import (
    COUNT_CAP,
    EVENT_STATES,
    JOB_STATES,
    count_by_status,
    deliveries_per_minute,
    overview,
)
from records.events import EVENTS
from records.jobs import JOBS
from records.types import utcnow

Echo = Callable[[str], None]
GOAL_MS = 100.0


@dataclass(frozen=True)
class DashboardOptions:
    events: int
    postgres_url: str | None  # None: SQLite only
    runs: int


@dataclass(frozen=True)
class DashboardResult:
    passed: bool
    ratio: float


def run_dashboard_bench(options: DashboardOptions, echo: Echo) -> DashboardResult:
    kinds = [DatabaseKind.SQLITE] + ([DatabaseKind.POSTGRESQL] if options.postgres_url else [])
    worst = 0.0
    checks: list[Check] = []
    with tempfile.TemporaryDirectory(prefix="bench-dashboard-") as workdir:
        for kind in kinds:
            url_in = options.postgres_url if kind is DatabaseKind.POSTGRESQL else None
            with bench_database(kind, url_in, Path(workdir)) as url:
                prepare(url)
                # Filling a million rows in one statement takes longer than the service's
                # statement timeout; the measured engine keeps the service's settings.
                filler = make_engine(Settings(database_url=url, database_timeout_seconds=1800))
                engine = make_engine(Settings(database_url=url))
                echo(f"{kind.value}: {redact_url(url)}")
                try:
                    _fill(filler, options.events, echo)
                    p95, check = _measure(engine, kind, url, options, echo)
                finally:
                    filler.dispose()
                    engine.dispose()
            worst = max(worst, p95)
            checks.append(check)
    for check in checks:
        echo(check.line())
    ratio = worst / GOAL_MS
    echo(f"goal: the overview under {GOAL_MS:.0f} ms with {options.events} events")
    echo(format_ratio(ratio))
    return DashboardResult(passed=all(c.passed for c in checks), ratio=ratio)


def _measure(
    engine: Engine, kind: DatabaseKind, url: str, options: DashboardOptions, echo: Echo
) -> tuple[float, Check]:
    with engine.connect() as conn:
        stored = conn.execute(select(func.count()).select_from(EVENTS)).scalar_one()
    now = utcnow()

    def events_by_status() -> object:
        with engine.connect() as conn:
            return count_by_status(conn, EVENTS.c.status, EVENT_STATES)

    def jobs_by_status() -> object:
        with engine.connect() as conn:
            return count_by_status(conn, JOBS.c.status, JOB_STATES)

    def group_by() -> object:  # what counting every status of the table would cost
        with engine.connect() as conn:
            query = select(EVENTS.c.status, func.count()).group_by(EVENTS.c.status)
            return dict(conn.execute(query).tuples().all())

    def per_minute() -> object:
        with engine.connect() as conn:
            return deliveries_per_minute(conn, now)

    def baseline() -> object:
        with engine.connect() as conn:
            return conn.execute(text("SELECT 1")).scalar()

    timings = {
        "baseline SELECT 1": _times(baseline, options.runs),
        "events by status": _times(events_by_status, options.runs),
        "jobs by status": _times(jobs_by_status, options.runs),
        "deliveries per minute": _times(per_minute, options.runs),
        "whole overview": _times(lambda: overview(engine, now), options.runs),
        "(GROUP BY, not used)": _times(group_by, 3),
    }
    for name, values in timings.items():
        echo(f"  {name:<24} median {_ms(statistics.median(values))}  p95 {_ms(_p95(values))}")
    whole = overview(engine, now)
    last_hour = sum(m.accepted + m.duplicate for m in whole.deliveries)
    echo(
        f"  last hour: {last_hour} deliveries, {whole.events_processed_last_hour} processed;"
        f" other statuses (up to {COUNT_CAP + 1}): {whole.events_by_status}"
    )
    p95 = _p95(timings["whole overview"]) * 1000
    every = group_by()
    assert isinstance(every, dict)
    exact = {name: min(every.get(name, 0), COUNT_CAP + 1) for name in EVENT_STATES}
    check = Check(
        f"{kind.value} counts",
        stored == options.events and whole.events_by_status == exact and last_hour > 0,
        f"{stored} events stored of {options.events} made; the overview's exact counts equal"
        f" a GROUP BY's (capped): {whole.events_by_status == exact}",
    )
    return p95, check


def _fill(engine: Engine, events: int, echo: Echo) -> None:
    started = time.perf_counter()
    fill(engine, events)
    echo(
        f"  filled {events} events, {events} deliveries and {events // 10} jobs"
        f" in {time.perf_counter() - started:.1f} s"
    )


def _times(run: Callable[[], object], runs: int) -> list[float]:
    run()  # warm-up: the first run reads the pages in
    found = []
    for _ in range(runs):
        started = time.perf_counter()
        run()
        found.append(time.perf_counter() - started)
    return found


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:8.2f} ms"
