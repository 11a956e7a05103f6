"""`python -m bench ingest`: the receiver's acknowledged throughput against a bare endpoint.

The receiver runs exactly as the Procfile runs it (`voicehook web`: its guarded HTTP
protocol, edge limits and forwarded-address handling); the bare endpoint under uvicorn's
plain httptools protocol with the same loop and logging, so the ratio includes what the
edge's limits cost. Both get the same environment, on the same machine, driven by the same
wrk script with pre-signed unique bodies, in turn: a warmup of
each, then rounds of a bare run followed by a receiver run (the bare rate sizes the
receiver's body files). The ratio is the median round's. Once both have stopped, the
receiver's database and queue are checked against what wrk was told.
"""

from __future__ import annotations

import math
import os
import secrets
import shutil
import tempfile
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager, ExitStack
from dataclasses import dataclass
from pathlib import Path

import uvicorn

from bench import databases, queue_state
from bench.bodies import write_body_files
from bench.databases import DatabaseKind
from bench.errors import BenchError
from bench.launch import HOST, SERVER_OPTIONS
from bench.loadgen import BodyMode, LoadShape, WrkRun, find_wrk, run_wrk, wrk_command
from bench.report import (
    format_ratio,
    format_run,
    redact_url,
    throughput_ratio,
)
from bench.servers import Server, running_server, running_web
from bench.throwaway_redis import throwaway_redis
from bench.verify import Check, check_log, verify_ingest
from config.settings import Settings
from receiver.app import WEBHOOK_PATH

BARE_FACTORY = "bench.bare:create_bare_app"
BARE_BODIES_PER_THREAD = 20_000  # the bare endpoint keeps nothing, so it cycles through these
HEADROOM = 1.25  # receiver bodies per run: the bare rate times this, times the seconds
MIN_BODIES = 1_000
RECEIVER_ENV = {"LOG_FORMAT": "json", "LOG_LEVEL": "info"}  # its production defaults

Echo = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class IngestOptions:
    database: DatabaseKind
    database_url: str | None  # sqlite: default a fresh file; postgresql: required
    redis_url: str | None  # None: a throwaway redis-server
    clear_queue: bool
    shape: LoadShape
    workers: int
    seconds: int
    warmup_seconds: int
    rounds: int  # measured runs of each server, alternating; the median round counts
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
            database_url = stack.enter_context(
                databases.bench_database(options.database, options.database_url, workdir)
            )
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
            rounds = bench.run()
            checks = verify_ingest(
                [run.report for run in bench.receiver_runs],
                databases.read_stored(database_url),
                queue_state.read_queue(redis_url),
            )
            checks.append(check_log((workdir / "receiver.log").read_text(errors="replace")))
    finally:
        if options.keep_workdir:
            echo(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    for check in checks:
        echo(check.line())
    middle = median_round(rounds)
    if len(rounds) > 1:
        echo(
            f"median of {len(rounds)} rounds: round {rounds.index(middle) + 1},"
            f" receiver {middle.receiver.report.requests_per_second:,.0f} req/s"
            f" (p99 {middle.receiver.report.p99_us / 1000:.2f} ms),"
            f" bare {middle.bare.report.requests_per_second:,.0f} req/s"
        )
    echo(format_ratio(middle.ratio))
    return IngestResult(
        bare=middle.bare, receiver=middle.receiver, checks=checks, ratio=middle.ratio
    )


@dataclass(frozen=True, slots=True)
class Round:
    """One measured run of each server, back to back."""

    bare: WrkRun
    receiver: WrkRun

    @property
    def ratio(self) -> float:
        return throughput_ratio(self.receiver.report, self.bare.report)


def median_round(rounds: Sequence[Round]) -> Round:
    """The round whose ratio is the median (the lower middle one of an even count)."""
    if not rounds:
        raise BenchError("no round was measured")
    return sorted(rounds, key=lambda one: one.ratio)[(len(rounds) - 1) // 2]


class _Bench:
    """Both servers up at once, each warmed up, then measured in turn, round after round.

    Alternating puts each receiver run next to a bare run made under the same conditions of
    the machine (a neighbour's load, the host's frequency), and the median round discards a
    round that one of them spoiled.
    """

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
        self.receiver_runs: list[WrkRun] = []  # warmup included: all of them were stored

    def run(self) -> list[Round]:
        options = self._options
        with (
            self._server("bare") as bare,
            self._server("receiver") as receiver,
        ):
            bare_bodies = write_body_files(
                self._workdir / "bodies-bare",
                f"{self._prefix}_bare",
                options.shape.threads,
                BARE_BODIES_PER_THREAD,
                self._secret,
            )
            if options.warmup_seconds:
                warm = self._drive(bare, "bare warmup", bare_bodies, options.warmup_seconds)
                self._drive_receiver(receiver, "warmup", warm, options.warmup_seconds)
            rounds = []
            for number in range(1, options.rounds + 1):
                label = "measured" if options.rounds == 1 else f"round {number}"
                measured = self._drive(bare, f"bare {label}", bare_bodies, options.seconds)
                one = Round(
                    measured, self._drive_receiver(receiver, label, measured, options.seconds)
                )
                if options.rounds > 1:
                    self._echo(f"round {number}: ratio {one.ratio:.3f}")
                rounds.append(one)
        return rounds

    def _server(self, label: str) -> AbstractContextManager[Server]:
        log_path = self._workdir / f"{label}.log"
        workers = self._options.workers
        if label == "bare":
            return running_server(BARE_FACTORY, workers=workers, env=self._env, log_path=log_path)
        return running_web(workers=workers, env=self._env, log_path=log_path)

    def _drive_receiver(self, server: Server, label: str, bare: WrkRun, seconds: int) -> WrkRun:
        """A receiver run with bodies of its own, never sent before, sized from `bare`."""
        bodies = self._options.requests or max(
            MIN_BODIES, math.ceil(bare.report.requests_per_second * HEADROOM * seconds)
        )
        threads = self._options.shape.threads
        directory = write_body_files(
            self._workdir / f"bodies-receiver-{len(self.receiver_runs)}",
            f"{self._prefix}_{len(self.receiver_runs)}",
            threads,
            math.ceil(bodies / threads),
            self._secret,
        )
        run = self._drive(server, f"receiver {label}", directory, seconds, BodyMode.ONCE)
        self.receiver_runs.append(run)
        return run

    def _drive(
        self,
        server: Server,
        label: str,
        bodies: Path,
        seconds: int,
        mode: BodyMode = BodyMode.CYCLE,
    ) -> WrkRun:
        command = wrk_command(
            self._wrk,
            server.base_url + WEBHOOK_PATH,
            bodies=bodies,
            mode=mode,
            shape=self._options.shape,
            seconds=seconds,
        )
        run = run_wrk(command, server.cpu_seconds)
        self._echo(_run_line(label, run))
        return run


def _run_line(label: str, run: WrkRun) -> str:
    return (
        f"{format_run(label, run.report)}"
        f"  [server cpu {run.server_cpu_seconds / run.wall_seconds:.0%},"
        f" wrk cpu {run.wrk_cpu_seconds / run.wall_seconds:.0%}]"
    )


def _redis(stack: ExitStack, options: IngestOptions, workdir: Path) -> str:
    if options.redis_url is None:
        return stack.enter_context(throwaway_redis(workdir))
    brokers = queue_state.require_empty_queue(options.redis_url, clear=options.clear_queue)
    stack.callback(queue_state.drop_queue, options.redis_url, brokers)
    return options.redis_url


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
    redis_origin = "throwaway" if options.redis_url is None else "given"
    echo(f"database: {options.database.value} {redact_url(database_url)}")
    echo(f"redis: {redact_url(redis_url)} ({redis_origin})")
    echo(
        f"servers: uvicorn {uvicorn.__version__} on {HOST}, workers={options.workers};"
        f" bare: {server}; receiver: `voicehook web` as in the Procfile (guarded httptools,"
        f" WEB_MAX_HEADER_BYTES={settings.web_max_header_bytes},"
        f" WEB_MAX_CONNECTIONS={settings.web_max_connections})"
    )
    echo(
        f"receiver settings: LOG_FORMAT={settings.log_format} LOG_LEVEL={settings.log_level}"
        f" (logs to {workdir / 'receiver.log'}), INGEST_MAX_BATCH={settings.ingest_max_batch},"
        f" WEBHOOK_TOLERANCE_SECONDS={settings.webhook_tolerance_seconds}"
    )
    echo(
        f"load: {wrk}, {options.shape.threads} thread(s), {options.shape.connections}"
        f" connections, warmup {options.warmup_seconds}s then {options.rounds} round(s) of"
        f" {options.seconds}s per server, pre-signed unique bodies"
    )
