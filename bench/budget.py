"""`python -m bench budget`: failed generations retried while new jobs keep arriving, under
the shared API budget — no 429 ever, and the budget used to the full while work waits.

Time is scaled down so that a run takes a minute or two: the limit keeps its 60 requests
but per 6-second window (not 60), the limiter's margin shrinks with it (1 s → 0.1 s, so the
most it can use, window ÷ (window + margin), stays 98.4%), and a failed attempt is retried
after 0.5 s. Requests then come ten times as fast as in production, which asks more of the
limiter, not less. The sandbox fails a share of generations at random; jobs arrive faster
than the budget can take them, so a backlog builds, then drains once arrivals stop.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine

from bench import job_records
from bench.errors import BenchError
from bench.logs import check_errors
from bench.pacing import PacedRun, Sampler, paced
from bench.report import format_ratio
from bench.sandbox_process import SandboxOptions, SandboxProcess
from bench.service_stack import Stack, bench_workdir, running_stack
from bench.utilization import Sample, Utilization, utilization
from bench.verify import Check
from bench.worker_process import running_worker
from sandbox.voices import DEFAULT_VOICE

Echo = Callable[[str], None]

SCRIPT = "A short line to say, retried until it is said."
SAMPLE_SECONDS = 0.2
SETTLE_TIMEOUT_SECONDS = 600.0
STALL_SECONDS = 30.0  # no job settled for this long: the rest are stuck
UTILIZATION_GOAL = 0.9


@dataclass(frozen=True, slots=True)
class BudgetOptions:
    jobs: int = 400
    rate: float = 8.0  # new jobs per second
    failure_rate: float = 0.6
    min_retries: int = 300
    limit: int = 60
    window_seconds: float = 6.0
    margin_seconds: float = 0.1
    retry_backoff_seconds: float = 0.5
    max_attempts: int = 3
    keep_workdir: bool = False


@dataclass(frozen=True, slots=True)
class BudgetResult:
    use: Utilization
    rate_limited: int
    checks: list[Check]

    @property
    def passed(self) -> bool:
        return all(check.passed for check in self.checks)


def run_budget_bench(options: BudgetOptions, echo: Echo) -> BudgetResult:
    """Run the bench, printing as it goes; the caller prints nothing after the ratio."""
    sandbox_options = SandboxOptions(
        rate_limit=options.limit, rate_window_seconds=options.window_seconds
    )
    service_env = {
        "VPAI_RATE_LIMIT": str(options.limit),
        "VPAI_RATE_WINDOW_SECONDS": str(options.window_seconds),
        "VPAI_RATE_MARGIN_SECONDS": str(options.margin_seconds),
        "JOB_RETRY_BACKOFF_SECONDS": str(options.retry_backoff_seconds),
        "JOB_MAX_ATTEMPTS": str(options.max_attempts),
    }
    with (
        bench_workdir(options.keep_workdir, echo) as workdir,
        running_stack(workdir, sandbox_options, service_env) as stack,
        running_worker(stack.env, workdir / "worker.log"),
    ):
        _describe(echo, options, service_env)
        engine = stack.engine()
        try:
            samples, run, statuses, retried = _measure(stack, engine, options, echo)
        finally:
            engine.dispose()
        _save_samples(samples, workdir / "samples.csv")
        worker_log = check_errors(
            "worker log", (workdir / "worker.log").read_text(errors="replace")
        )
    served = samples[-1].served - samples[0].served
    rate_limited = samples[-1].rate_limited
    echo(
        f"settled: ready {statuses['ready']}, failed {statuses['failed']};"
        f" {retried} failed generations retried"
    )
    echo(f"upstream: {served} requests served during the run, {rate_limited} answered 429")
    use = utilization(samples, options.limit, options.window_seconds)
    ceiling = options.window_seconds / (options.window_seconds + options.margin_seconds)
    echo(
        f"backlog: {use.backlog_seconds:.1f}s with jobs waiting (most: "
        f"{max(s.backlog for s in samples)}); served {use.served} of {use.capacity:.0f} allowed"
    )
    echo(
        f"windows of {options.window_seconds:g}s in it: least used {use.window_min:.3f},"
        f" median {use.window_median:.3f} (ceiling window/(window+margin) = {ceiling:.3f})"
    )
    echo(f"goal zero 429s: {'met' if rate_limited == 0 else 'MISSED'} ({rate_limited})")
    verdict = "met" if use.ratio >= UTILIZATION_GOAL else "MISSED"
    echo(f"goal ≥ {UTILIZATION_GOAL:.0%} of the budget used while a backlog exists: {verdict}")
    checks = [
        Check(
            "jobs settled",
            statuses["ready"] + statuses["failed"] == run.count,
            f"{statuses['ready'] + statuses['failed']} of {run.count} ready or failed"
            f" ({dict(sorted(statuses.items()))})",
        ),
        Check(
            "failures retried",
            retried >= options.min_retries,
            f"{retried} failed generations retried (at least {options.min_retries} wanted)",
        ),
        worker_log,
    ]
    for check in checks:
        echo(check.line())
    echo("ratio: requests served ÷ requests the budget allowed, while a backlog existed")
    echo(format_ratio(use.ratio))
    return BudgetResult(use=use, rate_limited=rate_limited, checks=checks)


def _measure(
    stack: Stack, engine: Engine, options: BudgetOptions, echo: Echo
) -> tuple[list[Sample], PacedRun, Counter[str], int]:
    api = stack.jobs_api()
    try:
        api.create_customer()
        # One job through every process before faults and the clock start.
        first = [api.create_job(DEFAULT_VOICE.id, SCRIPT, "wav")]
        job_records.wait_until_settled(engine, first, SETTLE_TIMEOUT_SECONDS)
        stack.sandbox.call("PATCH", "/faults", {"generationFailureRate": options.failure_rate})
        ids: list[str] = []

        def submit(_: int) -> None:
            ids.append(api.create_job(DEFAULT_VOICE.id, SCRIPT, "wav"))

        with Sampler(lambda: _sample(stack.sandbox, engine), SAMPLE_SECONDS) as sampler:
            run = paced(options.rate, options.jobs, submit)
            echo(
                f"submitted: {run.count} jobs in {run.seconds:.1f}s ({run.rate:.2f}/s,"
                f" at most {run.most_behind * 1000:.0f} ms behind schedule)"
            )
            started = time.monotonic()
            statuses = job_records.wait_for_settled(
                engine, ids, SETTLE_TIMEOUT_SECONDS, stall_seconds=STALL_SECONDS
            )
            echo(f"settled {time.monotonic() - started:.1f}s after the last submission")
    finally:
        api.close()
    if len(sampler.samples) < 2:
        raise BenchError("the run was too short to sample")
    return sampler.samples, run, statuses, job_records.retried_failures(engine)


def _save_samples(samples: list[Sample], path: Path) -> None:
    """The sampled run, for a closer look with --keep-workdir."""
    start = samples[0].at
    lines = ["seconds,served,rate_limited,backlog"]
    lines += [f"{s.at - start:.3f},{s.served},{s.rate_limited},{s.backlog}" for s in samples]
    path.write_text("\n".join(lines) + "\n")


def _sample(sandbox: SandboxProcess, engine: Engine) -> Sample:
    requests = sandbox.call("GET", "/workspaces/default")["requests"]
    at = time.monotonic()
    return Sample(
        at=at,
        served=int(requests["served"]),
        rate_limited=int(requests["rateLimited"]),
        backlog=job_records.backlog(engine, datetime.now(UTC)),
    )


def _describe(echo: Echo, options: BudgetOptions, service_env: dict[str, str]) -> None:
    echo(
        f"sandbox: own process, {options.limit} requests per {options.window_seconds:g}s"
        f" sliding window, generation failure rate {options.failure_rate:g}"
        " (set after one job went through)"
    )
    echo("service: " + " ".join(f"{key}={value}" for key, value in service_env.items()))
    echo(
        f"load: {options.jobs} jobs at {options.rate:g}/s through the internal API;"
        f" sampled every {SAMPLE_SECONDS:g}s"
    )
