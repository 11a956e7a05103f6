"""`python -m bench`: benchmarks run as scripts against real processes, not as tests."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from bench.budget import BudgetOptions, run_budget_bench
from bench.crash import CrashOptions, run_crash_drill
from bench.dashboard import DashboardOptions, run_dashboard_bench
from bench.databases import DatabaseKind
from bench.drain import DrainOptions, run_drain_bench
from bench.e2e import E2eOptions, run_e2e_bench
from bench.errors import BenchError
from bench.help_group import BenchGroup
from bench.ingest import IngestOptions, run_ingest_bench
from bench.loadgen import LoadShape
from bench.memory import MemoryOptions, run_memory_bench
from bench.notify import NotifyOptions, run_notify_bench
from bench.report import parse_duration
from bench.signals import SignalsOptions, run_signals_bench
from bench.startup import StartupOptions, run_startup_bench

app = typer.Typer(
    cls=BenchGroup,
    help="Benchmarks of voicehook's hot paths.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,  # `python -m bench` is no command a shell completes
)

# The options several benches share, said once.
Database = Annotated[DatabaseKind, typer.Option(help="Database the service runs on.")]
DatabaseUrl = Annotated[
    str | None,
    typer.Option(
        help="sqlite: default a fresh file in a temp dir; postgresql: default"
        " $TEST_DATABASE_URL (the bench works in a fresh schema it drops afterwards)."
    ),
]
Warmup = Annotated[str, typer.Option(help="Unmeasured run before it (0: none).")]
KeepWorkdir = Annotated[
    bool, typer.Option(help="Keep the temp dir (logs, SQLite file, audio, bodies).")
]


@app.command()
def ingest(
    *,
    database: Database = DatabaseKind.SQLITE,
    database_url: DatabaseUrl = None,
    redis_url: Annotated[
        str | None,
        typer.Option(help="Redis to enqueue into (default: $REDIS_URL, else a throwaway one)."),
    ] = None,
    embedded_redis: Annotated[
        bool, typer.Option(help="Start a throwaway redis-server even if $REDIS_URL is set.")
    ] = False,
    clear_queue: Annotated[
        bool, typer.Option(help="Empty a given Redis's events queue first, not refuse to run.")
    ] = False,
    connections: Annotated[int, typer.Option(min=1, help="Open connections (wrk -c).")] = 32,
    threads: Annotated[int, typer.Option(min=1, help="wrk threads (wrk -t).")] = 1,
    workers: Annotated[int, typer.Option(min=1, help="Uvicorn workers, for both servers.")] = 1,
    duration: Annotated[str, typer.Option(help="Measured run per server: 10s, 1m.")] = "10s",
    warmup: Warmup = "2s",
    rounds: Annotated[
        int,
        typer.Option(
            min=1,
            help="Measured runs of each server, alternating bare and receiver; the ratio is"
            " the median round's.",
        ),
    ] = 3,
    requests: Annotated[
        int | None,
        typer.Option(min=1, help="Bodies per receiver run (default: bare rate x1.25 x duration)."),
    ] = None,
    keep_workdir: KeepWorkdir = False,
) -> None:
    """Throughput and p50/p99 latency of signed unique deliveries, made durable and enqueued,
    against a bare endpoint answering 202; the last line is `ratio=<receiver ÷ bare req/s>`."""
    if threads > connections:
        raise typer.BadParameter("must not exceed --connections", param_hint="--threads")
    if redis_url is None and not embedded_redis:
        redis_url = os.environ.get("REDIS_URL") or None
    options = IngestOptions(
        database=database,
        database_url=_database_url(database, database_url),
        redis_url=redis_url,
        clear_queue=clear_queue,
        shape=LoadShape(threads=threads, connections=connections),
        workers=workers,
        seconds=_seconds(duration, "--duration", minimum=1),
        warmup_seconds=_seconds(warmup, "--warmup", minimum=0),
        rounds=rounds,
        requests=requests,
        keep_workdir=keep_workdir,
    )
    _run("ingest", lambda: run_ingest_bench(options, typer.echo).passed)


@app.command()
def e2e(
    *,
    rate: Annotated[float, typer.Option(min=0.1, help="Jobs (so webhooks) per second.")] = 20.0,
    duration: Annotated[str, typer.Option(help="Measured run: 30s, 1m.")] = "30s",
    warmup: Warmup = "3s",
    script_chars: Annotated[
        int, typer.Option(min=1, max=5000, help="Script length (~14 characters per second).")
    ] = 100,
    audio_format: Annotated[
        str, typer.Option("--format", help="Audio format of the jobs: wav or mp3.")
    ] = "wav",
    worker_processes: Annotated[
        int | None, typer.Option(min=1, help="Event processes (default WORKER_PROCESSES).")
    ] = None,
    worker_threads: Annotated[
        int | None, typer.Option(min=1, help="Threads each (default WORKER_THREADS).")
    ] = None,
    load: Annotated[
        bool,
        typer.Option(help="Measure again while `stress-ng --cpu 2` keeps both cores busy."),
    ] = True,
    keep_workdir: KeepWorkdir = False,
) -> None:
    """Webhook POST → job ready with its audio on disk, p50/p90/p99 at a steady rate against
    the sandbox, quiet and under CPU load, each against its floor measured in the same run (a
    bare endpoint's 202 plus a plain download and fsync of the same files); the last line is
    `ratio=<min(3 ÷ (quiet p50 ÷ floor), 10 ÷ (loaded p99 ÷ floor))>` (1 or more: goals met)."""
    if audio_format not in ("wav", "mp3"):
        raise typer.BadParameter("must be wav or mp3", param_hint="--format")
    options = E2eOptions(
        rate=rate,
        seconds=_seconds(duration, "--duration", minimum=1),
        warmup_seconds=_seconds(warmup, "--warmup", minimum=0),
        script_chars=script_chars,
        audio_format=audio_format,
        worker_processes=worker_processes,
        worker_threads=worker_threads,
        under_load=load,
        keep_workdir=keep_workdir,
    )
    _run("e2e", lambda: run_e2e_bench(options, typer.echo).passed)


@app.command()
def budget(
    *,
    jobs: Annotated[int, typer.Option(min=1, help="New jobs submitted during the run.")] = 400,
    rate: Annotated[float, typer.Option(min=0.1, help="New jobs per second.")] = 8.0,
    failure_rate: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="Share of generations the sandbox fails.")
    ] = 0.6,
    min_retries: Annotated[
        int, typer.Option(min=0, help="Failed generations that must have been retried.")
    ] = 300,
    limit: Annotated[
        int, typer.Option(min=1, help="Requests per window (upstream and ours).")
    ] = 60,
    window: Annotated[float, typer.Option(min=0.5, help="Window, seconds (production: 60).")] = 6.0,
    margin: Annotated[
        float | None, typer.Option(min=0.0, help="VPAI_RATE_MARGIN_SECONDS (default: window / 60).")
    ] = None,
    retry_backoff: Annotated[float, typer.Option(min=0.0, help="JOB_RETRY_BACKOFF_SECONDS.")] = 0.5,
    keep_workdir: KeepWorkdir = False,
) -> None:
    """Retries and new submissions under the shared budget: 429s answered (goal 0) and the
    budget's use while a backlog exists; the last line is `ratio=<use>` (goal 0.9)."""
    options = BudgetOptions(
        jobs=jobs,
        rate=rate,
        failure_rate=failure_rate,
        min_retries=min_retries,
        limit=limit,
        window_seconds=window,
        margin_seconds=window / 60 if margin is None else margin,
        retry_backoff_seconds=retry_backoff,
        keep_workdir=keep_workdir,
    )
    _run("budget", lambda: run_budget_bench(options, typer.echo).passed)


@app.command()
def crash(
    *,
    jobs: Annotated[int, typer.Option(min=1, help="Jobs made over the run.")] = 100,
    kills: Annotated[int, typer.Option(min=1, help="SIGKILLs of the worker's tree.")] = 20,
    seed: Annotated[int, typer.Option(help="Seed of the kill times and the sandbox's faults.")] = 1,
    database: Database = DatabaseKind.SQLITE,
    database_url: DatabaseUrl = None,
    keep_workdir: KeepWorkdir = False,
) -> None:
    """SIGKILL the worker at random points with the sandbox's faults on, then check that every
    job settled and the upstream agrees with the records; the last line is `ratio=<checks
    passed ÷ checks>` (goal 1)."""
    options = CrashOptions(
        jobs=jobs,
        kills=kills,
        seed=seed,
        database=database,
        database_url=_database_url(database, database_url),
        keep_workdir=keep_workdir,
    )
    _run("crash", lambda: run_crash_drill(options, typer.echo).passed)


@app.command()
def memory(
    *,
    size_mb: Annotated[float, typer.Option(min=1, help="Size of the file, MB.")] = 200.0,
    idle: Annotated[float, typer.Option(min=0.1, help="Seconds of idle sampling.")] = 2.0,
    keep_workdir: KeepWorkdir = False,
    store: Annotated[
        str, typer.Option(help="local (AUDIO_DIR) or s3 (a bucket on a throwaway moto_server).")
    ] = "local",
) -> None:
    """A worker's peak RSS while downloading a large file (and, with `--store s3`, uploading
    it to a bucket), against its idle RSS; the last line is `ratio=<(peak - idle) MB ÷ 50 MB>`
    (1 or less: goal met)."""
    options = MemoryOptions(
        size_mb=size_mb, idle_seconds=idle, keep_workdir=keep_workdir, store=store
    )
    _run("memory", lambda: run_memory_bench(options, typer.echo).passed)


@app.command()
def dashboard(
    *,
    events: Annotated[int, typer.Option(min=1000, help="Events to fill each database with.")] = (
        1_000_000
    ),
    runs: Annotated[int, typer.Option(min=3, help="Measured runs of each query.")] = 30,
    database_url: Annotated[
        str | None,
        typer.Option(
            help="PostgreSQL to measure as well (a fresh schema, dropped afterwards); default"
            " $TEST_DATABASE_URL. SQLite (a fresh file) is always measured."
        ),
    ] = None,
) -> None:
    """The dashboard overview's counts on SQLite and PostgreSQL filled with a million events;
    the last line is `ratio=<slowest p95 ÷ 100 ms>` (1 or less: goal met)."""
    url = database_url or os.environ.get("TEST_DATABASE_URL") or None
    options = DashboardOptions(events=events, postgres_url=url, runs=runs)
    _run("dashboard", lambda: run_dashboard_bench(options, typer.echo).passed)


@app.command()
def startup(
    *,
    runs: Annotated[
        int, typer.Option(min=1, help="Runs of each command (the median counts).")
    ] = 10,
) -> None:
    """Start-up time of `voicehook --help` and simple reads against the bare interpreter's;
    the last line is `ratio=<slowest command's median ÷ python -c pass's>`."""
    _run("startup", lambda: run_startup_bench(StartupOptions(runs=runs), typer.echo).passed)


@app.command()
def notify(
    *,
    rate: Annotated[float, typer.Option(min=1, help="State changes per second.")] = 50.0,
    duration: Annotated[str, typer.Option(help="Measured steady run: 20s, 1m.")] = "20s",
    burst: Annotated[
        int, typer.Option(min=1, help="Changes committed at once, for throughput.")
    ] = 1000,
    database: Database = DatabaseKind.SQLITE,
    database_url: DatabaseUrl = None,
    redis_url: Annotated[
        str | None, typer.Option(help="Redis of the broker (default: a throwaway one).")
    ] = None,
    notify_threads: Annotated[
        int, typer.Option(min=1, max=64, help="NOTIFY_WORKER_THREADS of the worker.")
    ] = 8,
    keep_workdir: KeepWorkdir = False,
) -> None:
    """Delay from a job's state change to the app's endpoint at a steady rate (p50/p99),
    and notifications/s for a burst; the last line is `ratio=<p99 ÷ 500 ms>` (1 or less:
    goal met)."""
    options = NotifyOptions(
        rate=rate,
        seconds=_seconds(duration, "--duration", minimum=1),
        burst=burst,
        database=database,
        database_url=_database_url(database, database_url),
        redis_url=redis_url,
        notify_threads=notify_threads,
        keep_workdir=keep_workdir,
    )
    _run("notify", lambda: run_notify_bench(options, typer.echo).passed)


@app.command()
def drain(
    *,
    events: Annotated[
        int, typer.Option(min=1, help="generation.ready events in the backlog.")
    ] = 10_000,
    database: Annotated[
        list[DatabaseKind] | None,
        typer.Option(
            help="Database(s) to drain on, each its own run (default: sqlite, and postgresql"
            " when --database-url or $TEST_DATABASE_URL is set)."
        ),
    ] = None,
    database_url: Annotated[
        str | None,
        typer.Option(
            help="PostgreSQL server (default $TEST_DATABASE_URL; the bench works in a fresh"
            " schema it drops afterwards)."
        ),
    ] = None,
    audio_format: Annotated[str, typer.Option(help="wav or mp3.")] = "wav",
    otlp_endpoint: Annotated[
        str | None,
        typer.Option(
            help="Export the service's traces to this OTLP/HTTP endpoint, to see where each"
            " event's time goes (needs the otel extra)."
        ),
    ] = None,
    keep_workdir: KeepWorkdir = False,
) -> None:
    """A backlog of generation.ready events drained by `voicehook worker` (its defaults):
    events/s and p99 per event against a ceiling of the same work without database or broker;
    the last line is `ratio=<drain ÷ ceiling>` (PostgreSQL's when it ran; goal 0.7)."""
    if audio_format not in {"wav", "mp3"}:
        raise typer.BadParameter("must be wav or mp3", param_hint="--audio-format")
    database_url = database_url or os.environ.get("TEST_DATABASE_URL")
    kinds = tuple(database or ())
    if not kinds:
        kinds = (
            (DatabaseKind.SQLITE, DatabaseKind.POSTGRESQL)
            if database_url
            else (DatabaseKind.SQLITE,)
        )
    options = DrainOptions(
        events=events,
        databases=kinds,
        postgres_url=database_url,
        audio_format=audio_format,
        otlp_endpoint=otlp_endpoint,
        keep_workdir=keep_workdir,
    )
    _run("drain", lambda: run_drain_bench(options, typer.echo).passed)


@app.command()
def signals(
    *,
    database: Annotated[DatabaseKind, typer.Option(help="Database to read.")] = DatabaseKind.SQLITE,
    database_url: Annotated[
        str | None, typer.Option(help="postgresql: default $TEST_DATABASE_URL (a fresh schema).")
    ] = None,
    events: Annotated[int, typer.Option(min=1, help="Events stored before reading.")] = 100_000,
    reads: Annotated[int, typer.Option(min=2, help="Reads of each kind.")] = 50,
) -> None:
    """What one read of the health snapshot (/metrics' queue gauges, status, alerts) costs
    over a large table; the last line is `ratio=<read p50 ÷ SELECT 1 + PING p50>`."""
    options = SignalsOptions(
        database=database,
        database_url=_database_url(database, database_url),
        events=events,
        jobs=events // 5,
        reads=reads,
    )
    with tempfile.TemporaryDirectory(prefix="bench-signals-") as workdir:
        _run("signals", lambda: run_signals_bench(options, Path(workdir), typer.echo))


def _database_url(database: DatabaseKind, given: str | None) -> str | None:
    """`--database-url`, else for PostgreSQL $TEST_DATABASE_URL (SQLite: a fresh file)."""
    if database is DatabaseKind.POSTGRESQL and given is None:
        return os.environ.get("TEST_DATABASE_URL")
    return given


def _seconds(text: str, flag: str, *, minimum: int) -> int:
    try:
        seconds = parse_duration(text)
    except BenchError as exc:
        raise typer.BadParameter(str(exc), param_hint=flag) from None
    if seconds < minimum:
        raise typer.BadParameter(f"must be at least {minimum}s", param_hint=flag)
    return seconds


def _run(name: str, bench: Callable[[], bool]) -> None:
    """Run a bench: exit 2 when it could not run, 1 when a check of its results failed."""
    try:
        passed = bench()
    except BenchError as exc:
        typer.echo(f"bench {name}: {exc}", err=True)
        raise typer.Exit(2) from None
    if not passed:
        raise typer.Exit(1)
