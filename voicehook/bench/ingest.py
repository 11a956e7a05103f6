"""`voicehook bench ingest`: the receiver's acknowledged throughput against a bare endpoint.

Both apps run under the same launcher with the same settings and environment, on the same
machine, driven by the same wrk script with pre-signed unique bodies, one after the other:
the bare endpoint first (its rate also sizes the receiver's body files), then the receiver,
whose database and queue are checked against what wrk was told once it has stopped.
"""

from __future__ import annotations

import math
import os
import secrets
import shutil
import tempfile
from collections.abc import Callable, Mapping
from contextlib import ExitStack
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import uvicorn

from config.settings import Settings
from receiver.app import WEBHOOK_PATH
from voicehook.bench import databases, queue_state
from voicehook.bench.bodies import write_body_files
from voicehook.bench.errors import BenchError
from voicehook.bench.launch import HOST, SERVER_OPTIONS
from voicehook.bench.loadgen import BodyMode, LoadShape, WrkRun, find_wrk, run_wrk, wrk_command
from voicehook.bench.redis_server import embedded_redis
from voicehook.bench.report import (
    format_ratio,
    format_run,
    redact_url,
    throughput_ratio,
)
from voicehook.bench.servers import running_server
from voicehook.bench.verify import Check, check_log, verify_ingest

BARE_FACTORY = "voicehook.bench.bare:create_bare_app"
RECEIVER_FACTORY = "receiver.app:app_from_environment"
BARE_BODIES_PER_THREAD = 20_000  # the bare endpoint keeps nothing, so it cycles through these
HEADROOM = 1.25  # receiver bodies per run: the bare rate times this, times the seconds
MIN_BODIES = 1_000
RECEIVER_ENV = {"LOG_FORMAT": "json", "LOG_LEVEL": "info"}  # its production defaults

Echo = Callable[[str], None]


class DatabaseKind(StrEnum):
    SQLITE = "sqlite"
    POSTGRESQL = "postgresql"


@dataclass(frozen=True, slots=True)
class IngestOptions:
    database: DatabaseKind
    database_url: str | None  # sqlite: default a fresh file; postgresql: required
    redis_url: str | None  # None: an embedded redis-server
    clear_queue: bool
    shape: LoadShape
    workers: int
    seconds: int
    warmup_seconds: int
    requests: int | None  # bodies per receiver run; None: sized from the bare rate
    keep_workdir: bool


@dataclass(frozen=True, slots=True)
class IngestResult:
    bare: WrkRun
    receiver: WrkRun
    checks: list[Check]
    ratio: float

    @property
    def passed(self) -> bool:
        return all(check.passed for check in self.checks)


def run_ingest_bench(options: IngestOptions, echo: Echo) -> IngestResult:
    """Run the whole bench, printing as it goes; the caller prints nothing after the ratio."""
    wrk = find_wrk()
    workdir = Path(tempfile.mkdtemp(prefix="voicehook-bench-"))
    try:
        with ExitStack() as stack:
            redis_url = _redis(stack, options, workdir)
            database_url = _database(stack, options, workdir)
            databases.prepare(database_url)
            secret = secrets.token_hex(32)
            env = _server_env(database_url, redis_url, secret)
            _describe(
                echo,
                options=options,
                wrk=wrk,
                database_url=database_url,
                redis_url=redis_url,
                workdir=workdir,
            )
            bench = _Bench(
                wrk, options=options, env=env, secret=secret.encode(), workdir=workdir, echo=echo
            )
            bare = bench.bare()
            receiver_runs = bench.receiver(bare.report.requests_per_second)
            checks = verify_ingest(
                [run.report for run in receiver_runs],
                databases.read_stored(database_url),
                queue_state.read_queue(redis_url),
            )
            checks.append(check_log((workdir / "receiver.log").read_text(errors="replace")))
    finally:
        if options.keep_workdir:
            echo(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    receiver = receiver_runs[-1]
    for check in checks:
        echo(check.line())
    ratio = throughput_ratio(receiver.report, bare.report)
    echo(format_ratio(ratio))
    return IngestResult(bare=bare, receiver=receiver, checks=checks, ratio=ratio)


class _Bench:
    """Runs warmup then measurement against one server at a time."""

    def __init__(
        self,
        wrk: str,
        *,
        options: IngestOptions,
        env: Mapping[str, str],
        secret: bytes,
        workdir: Path,
        echo: Echo,
    ) -> None:
        self._wrk = wrk
        self._options = options
        self._env = env
        self._secret = secret
        self._workdir = workdir
        self._echo = echo
        self._prefix = f"bench_{secrets.token_hex(4)}"

    def bare(self) -> WrkRun:
        threads = self._options.shape.threads
        bodies = write_body_files(
            self._workdir / "bodies-bare",
            f"{self._prefix}_bare",
            threads,
            BARE_BODIES_PER_THREAD,
            self._secret,
        )
        runs = self._measure(
            "bare", BARE_FACTORY, BodyMode.CYCLE, [bodies] * len(self._run_seconds())
        )
        return runs[-1]

    def receiver(self, bare_rate: float) -> list[WrkRun]:
        """Warmup and measured runs, each with bodies of its own, none ever sent twice."""
        directories = []
        for label, seconds in self._run_seconds():
            per_thread = math.ceil(
                self._bodies_for(bare_rate, seconds) / self._options.shape.threads
            )
            directories.append(
                write_body_files(
                    self._workdir / f"bodies-receiver-{label}",
                    f"{self._prefix}_{label}",
                    self._options.shape.threads,
                    per_thread,
                    self._secret,
                )
            )
        return self._measure("receiver", RECEIVER_FACTORY, BodyMode.ONCE, directories)

    def _run_seconds(self) -> list[tuple[str, int]]:
        runs = [("measured", self._options.seconds)]
        if self._options.warmup_seconds:
            runs.insert(0, ("warmup", self._options.warmup_seconds))
        return runs

    def _bodies_for(self, bare_rate: float, seconds: int) -> int:
        if self._options.requests is not None:
            return self._options.requests
        return max(MIN_BODIES, math.ceil(bare_rate * HEADROOM * seconds))

    def _measure(
        self, label: str, factory: str, mode: BodyMode, bodies: list[Path]
    ) -> list[WrkRun]:
        runs: list[WrkRun] = []
        with running_server(
            factory,
            workers=self._options.workers,
            env=self._env,
            log_path=self._workdir / f"{label}.log",
        ) as server:
            url = server.base_url + WEBHOOK_PATH
            for (phase, seconds), directory in zip(self._run_seconds(), bodies, strict=True):
                command = wrk_command(
                    self._wrk,
                    url,
                    bodies=directory,
                    mode=mode,
                    shape=self._options.shape,
                    seconds=seconds,
                )
                run = run_wrk(command, server.cpu_seconds)
                runs.append(run)
                self._echo(_run_line(f"{label} {phase}", run))
        return runs


def _run_line(label: str, run: WrkRun) -> str:
    return (
        f"{format_run(label, run.report)}"
        f"  [server cpu {run.server_cpu_seconds / run.wall_seconds:.0%},"
        f" wrk cpu {run.wrk_cpu_seconds / run.wall_seconds:.0%}]"
    )


def _redis(stack: ExitStack, options: IngestOptions, workdir: Path) -> str:
    if options.redis_url is None:
        return stack.enter_context(embedded_redis(workdir))
    brokers = queue_state.require_empty_queue(options.redis_url, clear=options.clear_queue)
    stack.callback(queue_state.drop_queue, options.redis_url, brokers)
    return options.redis_url


def _database(stack: ExitStack, options: IngestOptions, workdir: Path) -> str:
    if options.database is DatabaseKind.SQLITE:
        url = options.database_url or databases.sqlite_url(workdir)
        if not url.startswith("sqlite:"):
            raise BenchError(f"--database sqlite needs a sqlite:/// URL, not {redact_url(url)}")
        return url
    if not options.database_url:
        raise BenchError("--database postgresql needs --database-url (or TEST_DATABASE_URL)")
    if not options.database_url.startswith(("postgresql:", "postgres:", "postgresql+")):
        raise BenchError(f"not a PostgreSQL URL: {redact_url(options.database_url)}")
    return stack.enter_context(databases.postgres_schema(options.database_url))


def _server_env(database_url: str, redis_url: str, secret: str) -> dict[str, str]:
    """One environment for both servers: the caller's, plus what the receiver needs."""
    return {
        **os.environ,
        **RECEIVER_ENV,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "VPAI_WEBHOOK_SECRETS": secret,
    }


def _describe(
    echo: Echo,
    *,
    options: IngestOptions,
    wrk: str,
    database_url: str,
    redis_url: str,
    workdir: Path,
) -> None:
    settings = Settings(
        database_url=database_url, redis_url=redis_url, log_format="json", log_level="info"
    )
    server = ", ".join(f"{key}={value}" for key, value in SERVER_OPTIONS.items())
    redis_origin = "embedded" if options.redis_url is None else "given"
    echo(f"database: {options.database.value} {redact_url(database_url)}")
    echo(f"redis: {redact_url(redis_url)} ({redis_origin})")
    echo(
        f"servers (identical for both): uvicorn {uvicorn.__version__} on {HOST},"
        f" workers={options.workers}, {server}"
    )
    echo(
        f"receiver settings: LOG_FORMAT={settings.log_format} LOG_LEVEL={settings.log_level}"
        f" (logs to {workdir / 'receiver.log'}), INGEST_MAX_BATCH={settings.ingest_max_batch},"
        f" WEBHOOK_TOLERANCE_SECONDS={settings.webhook_tolerance_seconds}"
    )
    echo(
        f"load: {wrk}, {options.shape.threads} thread(s), {options.shape.connections}"
        f" connections, warmup {options.warmup_seconds}s then {options.seconds}s per server,"
        " pre-signed unique bodies"
    )
