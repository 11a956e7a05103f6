"""`voicehook bench`: benchmarks run as scripts (wrk against real servers), not as tests."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from voicehook.bench.errors import BenchError
from voicehook.bench.ingest import DatabaseKind, IngestOptions, run_ingest_bench
from voicehook.bench.loadgen import LoadShape
from voicehook.bench.report import parse_duration

app = typer.Typer(help="Benchmarks of voicehook's hot paths.", no_args_is_help=True)


@app.command()
def ingest(
    *,
    database: Annotated[
        DatabaseKind, typer.Option(help="Database to ingest into.")
    ] = DatabaseKind.SQLITE,
    database_url: Annotated[
        str | None,
        typer.Option(
            help="sqlite: default a fresh file in a temp dir; postgresql: default"
            " $TEST_DATABASE_URL (the bench works in a fresh schema it drops afterwards)."
        ),
    ] = None,
    redis_url: Annotated[
        str | None,
        typer.Option(help="Redis to enqueue into (default: $REDIS_URL, else an embedded one)."),
    ] = None,
    embedded_redis: Annotated[
        bool, typer.Option(help="Start an embedded redis-server even if $REDIS_URL is set.")
    ] = False,
    clear_queue: Annotated[
        bool, typer.Option(help="Empty a given Redis's events queue first, not refuse to run.")
    ] = False,
    connections: Annotated[int, typer.Option(min=1, help="Open connections (wrk -c).")] = 32,
    threads: Annotated[int, typer.Option(min=1, help="wrk threads (wrk -t).")] = 1,
    workers: Annotated[int, typer.Option(min=1, help="Uvicorn workers, for both servers.")] = 1,
    duration: Annotated[str, typer.Option(help="Measured run per server: 10s, 1m.")] = "10s",
    warmup: Annotated[str, typer.Option(help="Unmeasured run before it (0: none).")] = "2s",
    requests: Annotated[
        int | None,
        typer.Option(min=1, help="Bodies per receiver run (default: bare rate x1.25 x duration)."),
    ] = None,
    keep_workdir: Annotated[
        bool, typer.Option(help="Keep the temp dir (server logs, bodies, SQLite file).")
    ] = False,
) -> None:
    """Throughput and p50/p99 latency of signed unique deliveries, made durable and enqueued,
    against a bare endpoint answering 202; the last line is `ratio=<receiver ÷ bare req/s>`."""
    if threads > connections:
        raise typer.BadParameter("must not exceed --connections", param_hint="--threads")
    try:
        seconds = parse_duration(duration)
        warmup_seconds = parse_duration(warmup)
    except BenchError as exc:
        raise typer.BadParameter(str(exc)) from None
    if seconds < 1:
        raise typer.BadParameter("must be at least 1s", param_hint="--duration")
    if database is DatabaseKind.POSTGRESQL and database_url is None:
        database_url = os.environ.get("TEST_DATABASE_URL")
    if redis_url is None and not embedded_redis:
        redis_url = os.environ.get("REDIS_URL") or None
    options = IngestOptions(
        database=database,
        database_url=database_url,
        redis_url=redis_url,
        clear_queue=clear_queue,
        shape=LoadShape(threads=threads, connections=connections),
        workers=workers,
        seconds=seconds,
        warmup_seconds=warmup_seconds,
        requests=requests,
        keep_workdir=keep_workdir,
    )
    try:
        result = run_ingest_bench(options, typer.echo)
    except BenchError as exc:
        typer.echo(f"voicehook bench ingest: {exc}", err=True)
        raise typer.Exit(2) from None
    if not result.passed:
        raise typer.Exit(1)
