"""`python -m bench notify`: notifications from state change to the app's endpoint.

Jobs made ready through the real transition (`complete_job`, which writes the notification
in its transaction and hands it to the broker after the commit) at a steady rate, delivered
by a real `voicehook worker` to a local endpoint that verifies each signature. Printed: the
p50/p99 delay from the change's commit to the endpoint's receipt at that rate, notifications
per second when a burst is committed at once, and nothing lost; the last line is
`ratio=<p99 ÷ 500 ms>` (1 or less: goal met).
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from sqlalchemy import Engine

from bench.databases import DatabaseKind, postgres_schema, prepare, sqlite_url
from bench.errors import BenchError
from bench.notify_endpoint import CountingEndpoint, counting_endpoint
from bench.pacing import paced
from bench.percentiles import LatencySummary, format_latency
from bench.report import format_ratio, redact_url
from bench.throwaway_redis import throwaway_redis
from bench.worker_process import running_worker
from config.broker import build_broker, enqueue_notifications
from config.database import make_engine
from config.settings import Settings
from processors.notify_message import new_secret
from records.attempt_views import AttemptView
from records.job_outcomes import attempt_for_generation, complete_job
from records.job_readying import StoredAudio
from records.notify_endpoints import sync_env_endpoints
from records.outbox import publish_committed
from storage.keys import LOCAL_STORE

GOAL_P99_SECONDS = 0.5
WARMUP_CHANGES = 20
COMMIT_THREADS = 4
SETTLE_TIMEOUT_SECONDS = 120.0
AUDIO = StoredAudio(LOCAL_STORE, "bench/x.wav", 1000, "0" * 64, 1.0)


@dataclass(frozen=True)
class NotifyOptions:
    rate: float
    seconds: int
    burst: int
    database: DatabaseKind
    database_url: str | None
    redis_url: str | None
    notify_threads: int
    keep_workdir: bool


@dataclass(frozen=True)
class NotifyResult:
    delay: LatencySummary
    lost: int
    passed: bool


def run_notify_bench(options: NotifyOptions, echo: Callable[[str], None]) -> NotifyResult:
    workdir = Path(tempfile.mkdtemp(prefix="bench-notify-"))
    secret = new_secret()
    with ExitStack() as stack:
        if not options.keep_workdir:
            stack.callback(shutil.rmtree, workdir, ignore_errors=True)
        url = stack.enter_context(_database(options, workdir))
        prepare(url)
        redis_url = options.redis_url or stack.enter_context(throwaway_redis(workdir))
        endpoint = stack.enter_context(counting_endpoint(secret))
        engine = make_engine(Settings(database_url=url))
        stack.callback(engine.dispose)
        sync_env_endpoints(engine, [endpoint.url])
        changes = options.burst + int(options.rate * options.seconds) + WARMUP_CHANGES
        echo(f"database {redact_url(url)}; preparing {changes} submitted jobs ...")
        views = [_submitted_job(engine, n) for n in range(changes)]
        broker = build_broker(Settings(redis_url=redis_url))
        publish_committed(engine, partial(enqueue_notifications, broker))
        stack.callback(publish_committed, engine, None)
        env = _worker_env(url, redis_url, endpoint.url, secret, options.notify_threads)
        stack.enter_context(running_worker(env, workdir / "worker.log"))

        def complete(index: int) -> None:
            complete_job(engine, views[index], AUDIO)

        for index in range(WARMUP_CHANGES):
            complete(index)
        _wait_for(endpoint, WARMUP_CHANGES, workdir)
        offset = WARMUP_CHANGES
        steady = int(options.rate * options.seconds)
        start = endpoint.count()
        # Commits overlap on a few threads, as several workers' would: one at a time could
        # not keep the rate on a loaded machine (each commit waits on its fsync).
        with ThreadPoolExecutor(COMMIT_THREADS) as pool:
            run = paced(options.rate, steady, lambda i: _submit(pool, complete, offset + i))
        _wait_for(endpoint, start + steady, workdir)
        arrivals = endpoint.since(start)
        delay = LatencySummary.of([a.arrived_at - a.changed_at for a in arrivals])
        echo(f"steady: {steady} changes at {run.rate:.1f}/s (goal {options.rate:g}/s)")
        echo(format_latency("change → app", delay))

        _burst(endpoint, complete, range(offset + steady, changes), workdir, echo)
        distinct = len({a.webhook_id for a in endpoint.since(0)})
        lost = changes - distinct
        echo(f"lost={lost} duplicates={endpoint.count() - distinct} rejected={endpoint.rejected}")
        if options.keep_workdir:
            echo(f"workdir kept: {workdir}")
    passed = lost == 0 and endpoint.rejected == 0 and delay.p99 <= GOAL_P99_SECONDS
    echo(format_ratio(delay.p99 / GOAL_P99_SECONDS))
    return NotifyResult(delay, lost, passed)


@contextmanager
def _database(options: NotifyOptions, workdir: Path) -> Iterator[str]:
    if options.database is DatabaseKind.SQLITE:
        yield options.database_url or sqlite_url(workdir)
        return
    if not options.database_url:
        raise BenchError("--database postgresql needs --database-url or $TEST_DATABASE_URL")
    with postgres_schema(options.database_url) as url:
        yield url


def _submitted_job(engine: Engine, number: int) -> AttemptView:
    """A job whose generation is out (untracked: no customer needed), to complete later."""
    view = attempt_for_generation(engine, f"bench-{number}", untracked_format="wav", max_attempts=1)
    if view is None:
        raise BenchError("a generation was taken for one still being submitted")
    return view


def _worker_env(
    database_url: str, redis_url: str, endpoint_url: str, secret: str, threads: int
) -> dict[str, str]:
    return {
        "PATH": "/usr/bin:/bin",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "VPAI_API_KEY": "vk_bench_unused",  # the worker refuses to start without one
        "NOTIFY_URLS": endpoint_url,
        "NOTIFY_SECRET": secret,
        "NOTIFY_WORKER_THREADS": str(threads),
        "NOTIFY_MAX_IN_FLIGHT": str(threads),
        "WORKER_PROCESSES": "1",
        "WORKER_THREADS": "1",
        "LOG_LEVEL": "warning",
    }


def _burst(
    endpoint: CountingEndpoint,
    complete: Callable[[int], None],
    indexes: range,
    workdir: Path,
    echo: Callable[[str], None],
) -> None:
    """Commit these changes at once; print how fast their notifications arrive."""
    start = endpoint.count()
    began = time.time()
    with ThreadPoolExecutor(COMMIT_THREADS) as pool:
        list(pool.map(complete, indexes))
    committed = time.time() - began
    _wait_for(endpoint, start + len(indexes), workdir)
    last = max(a.arrived_at for a in endpoint.since(start))
    echo(
        f"burst: {len(indexes)} changes committed in {committed:.2f}s, delivered at "
        f"{len(indexes) / (last - began):.0f} notifications/s"
    )


def _submit(pool: ThreadPoolExecutor, complete: Callable[[int], None], index: int) -> None:
    pool.submit(complete, index)


def _wait_for(endpoint: CountingEndpoint, count: int, workdir: Path) -> None:
    deadline = time.monotonic() + SETTLE_TIMEOUT_SECONDS
    while endpoint.count() < count:
        if time.monotonic() > deadline:
            raise BenchError(
                f"only {endpoint.count()} of {count} notifications arrived within "
                f"{SETTLE_TIMEOUT_SECONDS:.0f}s; see {workdir / 'worker.log'}"
            )
        time.sleep(0.01)
