"""`python -m bench e2e`: webhook POST → job ready with its audio on disk, at a steady rate.

Jobs are submitted through the internal API at the target rate, so the sandbox finishes
their generations, and posts their `generation.ready` webhooks, at that rate too (its phases
take about half a second). The API budget is raised for the run: it caps submissions at one
a second, which is not what is measured here. Each job's latency runs from the sandbox's
first POST of its webhook (its delivery log) to the job's `ready_at` (set once the verified
file has been renamed into place). The sandbox runs in its own process so its timestamps are
not delayed by this process's threads; receiver and worker run as `voicehook web` and
`voicehook worker` do.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench import job_records
from bench.e2e_latency import (
    READY_EVENT,
    Post,
    Stages,
    arrival_rate,
    busiest_second,
    first_posts,
    goal_ratio,
    stages,
)
from bench.errors import BenchError
from bench.jobs_api import JobsApi
from bench.logs import check_errors
from bench.pacing import PacedRun, paced
from bench.percentiles import LatencySummary, format_latency
from bench.process_stats import CpuWatch
from bench.report import format_ratio
from bench.sandbox_process import SandboxOptions
from bench.service_stack import Stack, bench_workdir, running_stack
from bench.verify import Check, check_log
from bench.worker_process import running_worker
from config.settings import Settings
from sandbox.voices import DEFAULT_VOICE

Echo = Callable[[str], None]

UNLIMITED = 1_000_000  # requests per window: the budget is not what this bench measures
SENTENCE = "The quick brown fox jumps over the lazy dog, and the dog does not mind at all. "
SETTLE_TIMEOUT_SECONDS = 120.0
STALL_SECONDS = 30.0  # no job settled for this long after the load: the rest are stuck


@dataclass(frozen=True, slots=True)
class E2eOptions:
    rate: float = 20.0
    seconds: int = 30
    warmup_seconds: int = 3
    script_chars: int = 100
    audio_format: str = "wav"
    worker_processes: int | None = None  # None: the WORKER_PROCESSES default
    worker_threads: int | None = None
    p50_goal_seconds: float = 0.25
    p99_goal_seconds: float = 1.0
    keep_workdir: bool = False


@dataclass(frozen=True, slots=True)
class E2eResult:
    latency: LatencySummary
    checks: list[Check]
    ratio: float

    @property
    def passed(self) -> bool:
        return all(check.passed for check in self.checks)


def run_e2e_bench(options: E2eOptions, echo: Echo) -> E2eResult:
    """Run the bench, printing as it goes; the caller prints nothing after the ratio."""
    service_env = {"VPAI_RATE_LIMIT": str(UNLIMITED)}
    if options.worker_processes:
        service_env["WORKER_PROCESSES"] = str(options.worker_processes)
    if options.worker_threads:
        service_env["WORKER_THREADS"] = str(options.worker_threads)
    sandbox_options = SandboxOptions(rate_limit=UNLIMITED, rate_window_seconds=60)
    with (
        bench_workdir(options.keep_workdir, echo) as workdir,
        running_stack(workdir, sandbox_options, service_env) as stack,
        running_worker(stack.env, workdir / "worker.log") as worker,
    ):
        _describe(echo, options, stack, sandbox_options)
        cpu = CpuWatch(
            {"sandbox": stack.sandbox.pid, "receiver": stack.receiver_pid, "worker": worker.pid}
        )
        measured, run = _load(stack, options, echo)
        echo(cpu.line())
        echo(
            f"submitted: {run.count} jobs in {run.seconds:.2f}s ({run.rate:.2f}/s,"
            f" at most {run.most_behind * 1000:.0f} ms behind schedule)"
        )
        engine = stack.engine()
        try:
            statuses = job_records.wait_for_settled(
                engine, measured, SETTLE_TIMEOUT_SECONDS, stall_seconds=STALL_SECONDS
            )
            completed = job_records.completions(engine, measured)
            files = job_records.audio_files(engine, measured)
        finally:
            engine.dispose()
        deliveries = stack.sandbox.call("GET", f"/deliveries?event={READY_EVENT}")["items"]
        checks = [
            Check(
                "jobs ready",
                statuses["ready"] == len(measured),
                f"{statuses['ready']} of {len(measured)} ({dict(sorted(statuses.items()))})",
            ),
            _check_files(stack.audio_dir, files),
        ]
        receiver_log = (workdir / "receiver.log").read_text(errors="replace")
        checks.append(
            check_errors("worker log", (workdir / "worker.log").read_text(errors="replace"))
        )
    posts = first_posts(deliveries)
    found = stages(posts, completed)
    checks.append(_check_posts(found, posts, len(completed)))
    checks.append(check_log(receiver_log))
    measured_posts = [posts[c.generation_id] for c in completed if c.generation_id in posts]
    latency = _print_figures(echo, options, found, measured_posts)
    for check in checks:
        echo(check.line())
    ratio = goal_ratio(latency, options.p50_goal_seconds, options.p99_goal_seconds)
    echo(
        f"ratio: the smaller of {options.p50_goal_seconds * 1000:.0f} ms ÷ p50 and"
        f" {options.p99_goal_seconds * 1000:.0f} ms ÷ p99 (1 or more: both goals met)"
    )
    echo(format_ratio(ratio))
    return E2eResult(latency=latency, checks=checks, ratio=ratio)


def script_of(chars: int) -> str:
    """A script of exactly `chars` characters (the sandbox speaks ~14 a second)."""
    repeated = SENTENCE * (chars // len(SENTENCE) + 1)
    return repeated[:chars].strip() or "Hello."


def _load(stack: Stack, options: E2eOptions, echo: Echo) -> tuple[list[str], PacedRun]:
    """One job through every process first (so all are up), then the warm-up and the
    measured jobs in one paced run: the measurement starts in the steady state."""
    api = stack.jobs_api()
    engine = stack.engine()
    try:
        api.create_customer()
        first, _ = _submit(api, options, count=1)
        job_records.wait_until_settled(engine, first, SETTLE_TIMEOUT_SECONDS)
        warmup = round(options.rate * options.warmup_seconds)
        measured = max(1, round(options.rate * options.seconds))
        ids, run = _submit(api, options, count=warmup + measured)
        echo(f"warm-up: the first {warmup} jobs of the run (not measured)")
        return ids[warmup:], run
    finally:
        engine.dispose()
        api.close()


def _submit(api: JobsApi, options: E2eOptions, count: int) -> tuple[list[str], PacedRun]:
    script = script_of(options.script_chars)
    ids: list[str] = []

    def submit(_: int) -> None:
        ids.append(api.create_job(DEFAULT_VOICE.id, script, options.audio_format))

    return ids, paced(options.rate, count, submit)


def _print_figures(
    echo: Echo, options: E2eOptions, found: Stages, measured_posts: list[Post]
) -> LatencySummary:
    moments = [post.started_at for post in measured_posts]
    if not found.total:
        raise BenchError("no job became ready: nothing to measure")
    echo(
        f"webhooks: {len(moments)} {READY_EVENT} posted at {arrival_rate(moments):.2f}/s"
        f" (busiest second: {busiest_second(moments)})"
    )
    echo(format_latency("POST → 2xx seen by the sandbox", LatencySummary.of(found.acknowledged)))
    echo(format_latency("POST → a worker claims the event", LatencySummary.of(found.to_worker)))
    echo(format_latency("claimed → job ready", LatencySummary.of(found.in_worker)))
    latency = LatencySummary.of(found.total)
    echo(format_latency("webhook POST → job ready, audio on disk", latency))
    for name, goal, measured in (
        ("p50", options.p50_goal_seconds, latency.p50),
        ("p99", options.p99_goal_seconds, latency.p99),
    ):
        verdict = "met" if measured <= goal else "MISSED"
        echo(f"goal {name} ≤ {goal * 1000:.0f} ms: {verdict} ({measured * 1000:.1f} ms)")
    return latency


def _check_files(audio_dir: Path, files: list[tuple[str, int]]) -> Check:
    wrong = [
        path
        for path, size in files
        if not (audio_dir / path).is_file() or (audio_dir / path).stat().st_size != size
    ]
    detail = f"{len(files) - len(wrong)} of {len(files)} files on disk with the recorded size"
    return Check("audio on disk", not wrong and bool(files), detail)


def _check_posts(found: Stages, posts: dict[str, Post], generations: int) -> Check:
    refused = [post for post in posts.values() if not 200 <= (post.status_code or 0) < 300]
    passed = not found.unposted and not found.not_ready and not refused
    detail = (
        f"{generations - found.unposted} of {generations} generations' webhooks in the log,"
        f" {len(refused)} first attempts not answered 2xx"
    )
    return Check("webhooks", passed, detail)


def _describe(
    echo: Echo, options: E2eOptions, stack: Stack, sandbox_options: SandboxOptions
) -> None:
    env = stack.env
    processes = env.get("WORKER_PROCESSES", str(Settings.model_fields["worker_processes"].default))
    threads = env.get("WORKER_THREADS", str(Settings.model_fields["worker_threads"].default))
    seconds = len(script_of(options.script_chars)) / 14.0
    echo(
        f"sandbox: own process, phases {'/'.join(f'{s:g}' for s in sandbox_options.phase_seconds)}"
        f" s, tone audio ({options.audio_format}, ~{seconds:.0f} s a job)"
    )
    echo(
        "service: receiver under the bench launcher (1 uvicorn worker), `voicehook worker`"
        f" (events: {processes} process(es) x {threads} threads; jobs: 1 x 2), SQLite"
        f" {stack.database_url}, throwaway Redis, LOG_LEVEL={env['LOG_LEVEL']}"
    )
    echo(
        f"load: {options.rate:g} jobs/s through the internal API for {options.seconds}s"
        f" after a {options.warmup_seconds}s warm-up; API budget raised to {UNLIMITED:,}/window"
    )
