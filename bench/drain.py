"""`python -m bench drain`: a backlog of `generation.ready` events, drained by `voicehook worker`.

With no event worker running, N jobs go in through the internal API and a submissions-only
worker (the jobs queue of `voicehook worker`) submits them; the sandbox makes each one's
generation (a real wav file; the budget is raised, it is not what this measures) and posts
its `generation.ready`, which the receiver stores and enqueues, where it waits. Then, in the
same run, the ceiling: the same downloads, verifications and stores by plain loops at the
worker's concurrency, without database or broker (`bench.drain_ceiling`). Then `voicehook
worker` starts with its defaults and drains the backlog: events/s from its first claim to
its last settle, and each event's time from claim to settle (the events' own `started_at` /
`finished_at`). Once on SQLite and once on PostgreSQL; `ratio` = drain rate ÷ ceiling rate,
PostgreSQL's when it ran.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from shutil import rmtree

from sqlalchemy import Engine

from bench import drain_records
from bench.databases import DatabaseKind, bench_database
from bench.drain_ceiling import CeilingRun, File, measure_ceiling
from bench.errors import BenchError
from bench.logs import check_errors
from bench.percentiles import LatencySummary, format_latency
from bench.report import format_ratio
from bench.sandbox_process import SandboxOptions, SandboxProcess
from bench.servers import stop_checked
from bench.service_stack import Stack, bench_workdir, running_stack
from bench.verify import Check
from bench.worker_process import STOP_TIMEOUT_SECONDS, running_worker
from config.queues import JOBS_QUEUE
from config.settings import Settings
from sandbox.voices import DEFAULT_VOICE
from voicehook.child_process import ChildProcess
from voicehook.commands.worker import dramatiq_command

Echo = Callable[[str], None]

UNLIMITED = 1_000_000  # requests per window: the budget is not what this bench measures
SCRIPT = "A job of a long backlog."  # ~2 s of audio (a 2 s wav is 88 KB)
POLL_SECONDS = 0.5
STALL_SECONDS = 120.0  # nothing moved for this long: the rest are stuck
LOCK_ERRORS = ("database is locked", "OperationalError")


@dataclass(frozen=True, slots=True)
class DrainOptions:
    events: int = 10_000
    databases: tuple[DatabaseKind, ...] = (DatabaseKind.SQLITE, DatabaseKind.POSTGRESQL)
    postgres_url: str | None = None
    script: str = SCRIPT  # the sandbox speaks ~14 characters a second: a 2 s file
    audio_format: str = "wav"
    post_threads: int = 4  # concurrent internal-API calls while the backlog is made
    goal_ratio: float = 0.7
    otlp_endpoint: str | None = None  # the service's traces go there (where time goes)
    keep_workdir: bool = False


@dataclass(frozen=True, slots=True)
class DrainRun:
    database: DatabaseKind
    ceiling: CeilingRun
    drain_seconds: float
    from_start_seconds: float
    per_event: list[float]
    checks: list[Check] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return len(self.per_event) / self.drain_seconds if self.drain_seconds > 0 else 0.0

    @property
    def ratio(self) -> float:
        return self.rate / self.ceiling.rate if self.ceiling.rate > 0 else 0.0


@dataclass(frozen=True, slots=True)
class DrainResult:
    runs: list[DrainRun]
    ratio: float

    @property
    def passed(self) -> bool:
        return all(check.passed for run in self.runs for check in run.checks)


def run_drain_bench(options: DrainOptions, echo: Echo) -> DrainResult:
    """Run the bench on each database, printing as it goes; the ratio line is the last."""
    runs = []
    for kind in options.databases:
        echo(f"== {kind.value} ==")
        runs.append(_run_on(kind, options, echo))
    for run in runs:
        echo(
            f"{run.database.value}: {run.rate:.1f} events/s against a ceiling of"
            f" {run.ceiling.rate:.1f}/s: {run.ratio:.3f} of it"
        )
    headline = next((r for r in runs if r.database is DatabaseKind.POSTGRESQL), runs[-1])
    verdict = "met" if headline.ratio >= options.goal_ratio else "MISSED"
    echo(f"goal ≥ {options.goal_ratio:g} of the ceiling on {headline.database.value}: {verdict}")
    echo(f"ratio: drain events/s ÷ ceiling files/s on {headline.database.value}")
    echo(format_ratio(headline.ratio))
    return DrainResult(runs, headline.ratio)


def _run_on(kind: DatabaseKind, options: DrainOptions, echo: Echo) -> DrainRun:
    sandbox_options = SandboxOptions(rate_limit=UNLIMITED, rate_window_seconds=60)
    service_env = {"VPAI_RATE_LIMIT": str(UNLIMITED)}  # expired links may be renewed freely
    if options.otlp_endpoint:
        service_env["OTEL_EXPORTER_OTLP_ENDPOINT"] = options.otlp_endpoint
    url = options.postgres_url if kind is DatabaseKind.POSTGRESQL else None
    with (
        bench_workdir(options.keep_workdir, echo) as workdir,
        bench_database(kind, url, workdir) as database_url,
        running_stack(workdir, sandbox_options, service_env, database_url) as stack,
    ):
        engine = stack.engine()
        try:
            made = _accumulate(stack, options, echo)
            echo(f"load average before the ceiling: {_load_average()}")
            ceiling = _ceiling(stack.sandbox, made, workdir / "ceiling")
            echo(
                f"ceiling: {len(ceiling.per_file)} files downloaded, verified and stored by"
                f" plain loops in {ceiling.seconds:.2f}s: {ceiling.rate:.1f} files/s"
            )
            echo(format_latency("ceiling, per file", LatencySummary.of(ceiling.per_file)))
            echo(f"load average before the drain: {_load_average()}")
            log_path = workdir / "worker.log"
            started = datetime.now(UTC)
            with running_worker(stack.env, log_path):
                counts = _wait_for_drained(engine, len(made), echo)
            timings = drain_records.event_timings(engine)
        finally:
            engine.dispose()
        worker_log = log_path.read_text(errors="replace")
        submissions_log = (workdir / "submissions.log").read_text(errors="replace")
    return _report(
        kind,
        options,
        ceiling,
        started=started,
        timings=timings,
        counts=counts,
        worker_log=worker_log,
        submissions_log=submissions_log,
        echo=echo,
    )


def _accumulate(stack: Stack, options: DrainOptions, echo: Echo) -> list[File]:
    """N jobs through the internal API, submitted by a submissions-only worker (as
    `voicehook worker` runs it), whose generations' webhooks the receiver stores and
    enqueues; no event worker runs, so they wait."""
    api = stack.jobs_api()
    began = time.monotonic()
    try:
        api.create_customer()
        with (
            _submissions_worker(stack),
            ThreadPoolExecutor(options.post_threads) as pool,
        ):
            script, audio_format = options.script, options.audio_format
            list(
                pool.map(
                    lambda _: api.create_job(DEFAULT_VOICE.id, script, audio_format),
                    range(options.events),
                )
            )
            _wait_for_backlog(stack, options.events, echo)
    finally:
        api.close()
    generations = stack.sandbox.call("GET", "/generations")["items"]
    made = [
        File(str(g["id"]), str(g["downloadUrl"]), str(g["format"]), float(g["durationSec"]))
        for g in generations
        if g.get("status") == "ready"
    ]
    echo(
        f"backlog: {options.events} jobs, submitted and made ready by the sandbox"
        f" ({len(made)} ready generations, {options.audio_format},"
        f" ~{made[0].duration_sec if made else 0:g}s each) in {time.monotonic() - began:.1f}s;"
        " no event worker running"
    )
    if len(made) != options.events:
        raise BenchError(f"{len(made)} ready generations for {options.events} jobs")
    return made


@contextmanager
def _submissions_worker(stack: Stack) -> Iterator[None]:
    """The submissions worker of `voicehook worker` alone (the jobs queue, 1 x 2)."""
    child = ChildProcess.start(
        dramatiq_command(JOBS_QUEUE, 1, 2),
        name="the submissions worker",
        env=stack.env,
        log_path=stack.workdir / "submissions.log",
        own_session=True,
        grace_seconds=STOP_TIMEOUT_SECONDS,
    )
    try:
        yield
    finally:
        stop_checked(child)


def _wait_for_backlog(stack: Stack, expected: int, echo: Echo) -> None:
    """Until the receiver has stored and enqueued every webhook."""
    engine = stack.engine()
    try:
        counts = _wait(engine, lambda c: c["queued"] >= expected, "every event queued")
    finally:
        engine.dispose()
    echo(f"backlog stored: {dict(sorted(counts.items()))}")


def _wait_for_drained(engine: Engine, expected: int, echo: Echo) -> dict[str, int]:
    def settled(counts: dict[str, int]) -> bool:
        return counts["processed"] + counts["failed"] + counts["ignored"] >= expected

    counts = _wait(engine, settled, "every event settled")
    echo(f"drained: {dict(sorted(counts.items()))}")
    return counts


def _wait(engine: Engine, done: Callable[[dict[str, int]], bool], what: str) -> dict[str, int]:
    last: dict[str, int] = {}
    moved = time.monotonic()
    while True:
        counts = dict(drain_records.status_counts(engine))
        counts = {key: counts.get(key, 0) for key in _STATUSES} | counts
        if done(counts):
            return counts
        if counts != last:
            last, moved = counts, time.monotonic()
        elif time.monotonic() - moved > STALL_SECONDS:
            raise BenchError(f"not {what}: nothing moved for {STALL_SECONDS:.0f}s ({counts})")
        time.sleep(POLL_SECONDS)


_STATUSES = ("received", "queued", "processing", "processed", "failed", "ignored")


def _ceiling(sandbox: SandboxProcess, made: list[File], directory: Path) -> CeilingRun:
    """The ceiling on fresh links (the webhooks' may be near their ten minutes by now)."""
    fresh = {
        str(item["id"]): str(item["downloadUrl"])
        for item in sandbox.call("GET", "/generations")["items"]
    }
    files = [
        File(f.generation_id, fresh[f.generation_id], f.audio_format, f.duration_sec) for f in made
    ]
    defaults = Settings.model_fields
    try:
        return measure_ceiling(
            files,
            directory,
            processes=int(defaults["worker_processes"].default),
            threads=int(defaults["worker_threads"].default),
        )
    finally:
        rmtree(directory, ignore_errors=True)


def _report(
    kind: DatabaseKind,
    options: DrainOptions,
    ceiling: CeilingRun,
    *,
    started: datetime,
    timings: list[drain_records.EventTiming],
    counts: dict[str, int],
    worker_log: str,
    submissions_log: str,
    echo: Echo,
) -> DrainRun:
    done = [t for t in timings if t.started_at is not None and t.finished_at is not None]
    if not done:
        raise BenchError("no event was processed: nothing to measure")
    first = min(t.started_at for t in done if t.started_at is not None)
    last = max(t.finished_at for t in done if t.finished_at is not None)
    per_event = [
        (t.finished_at - t.started_at).total_seconds()
        for t in done
        if t.finished_at is not None and t.started_at is not None
    ]
    run = DrainRun(
        database=kind,
        ceiling=ceiling,
        drain_seconds=(last - first).total_seconds(),
        from_start_seconds=(last - started).total_seconds(),
        per_event=per_event,
        checks=[
            *_checks(options, counts, timings, worker_log),
            check_errors("submissions worker log", submissions_log),
        ],
    )
    echo(
        f"drain: {len(per_event)} events in {run.drain_seconds:.2f}s from the first claim to"
        f" the last settle: {run.rate:.1f} events/s ({run.from_start_seconds:.2f}s from the"
        f" worker's start: {len(per_event) / run.from_start_seconds:.1f}/s)"
    )
    echo(format_latency("per event, claim → settled", LatencySummary.of(per_event)))
    retried = sum(1 for t in timings if t.attempts > 1)
    echo(f"events claimed more than once: {retried}")
    for check in run.checks:
        echo(check.line())
    return run


def _checks(
    options: DrainOptions,
    counts: dict[str, int],
    timings: list[drain_records.EventTiming],
    worker_log: str,
) -> list[Check]:
    locked = sum(worker_log.count(marker) for marker in LOCK_ERRORS)
    return [
        Check(
            "events processed",
            counts["processed"] == options.events == len(timings),
            f"{counts['processed']} of {options.events} processed ({counts})",
        ),
        Check("no database-lock errors", locked == 0, f"{locked} lock errors in the worker log"),
        check_errors("worker log", worker_log),
    ]


def _load_average() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())
