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

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import job_records
from bench.e2e_floor import FloorItem, cpu_load, measure_floor
from bench.e2e_latency import (
    READY_EVENT,
    Post,
    Stages,
    arrival_rate,
    busiest_second,
    first_posts,
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
from bench.servers import running_server
from bench.service_stack import Stack, bench_workdir, running_stack
from bench.verify import Check, check_log
from bench.worker_process import running_worker
from config.settings import Settings
from sandbox.voices import DEFAULT_VOICE

Echo = Callable[[str], None]

BARE_FACTORY = "bench.bare:create_bare_app"
WEBHOOK_PATH = "/webhooks/voiceproductionai"
CPU_HOGS = 2  # stress-ng --cpu 2: both cores of the 2-core machines this was measured on
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
    p50_floor_goal: float = 3.0  # quiet p50 at most this many times its floor
    p99_floor_goal: float = 10.0  # p99 under load at most this many times its floor
    under_load: bool = True  # measure again while stress-ng keeps every core busy
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
        running_server(
            BARE_FACTORY, workers=1, env=stack.env, log_path=workdir / "bare.log"
        ) as bare,
        running_worker(stack.env, workdir / "worker.log") as worker,
    ):
        _describe(echo, options, stack, sandbox_options)
        cpu = CpuWatch(
            {"sandbox": stack.sandbox.pid, "receiver": stack.receiver_pid, "worker": worker.pid}
        )
        api = stack.jobs_api()
        try:
            api.create_customer()
            _first_job(stack, api, options)
            phases = [
                _phase(
                    "quiet",
                    stack,
                    api,
                    bare_url=bare.base_url + WEBHOOK_PATH,
                    options=options,
                    echo=echo,
                )
            ]
            echo(cpu.line())
            if options.under_load:
                with cpu_load(CPU_HOGS, workdir):
                    echo(f"stress-ng --cpu {CPU_HOGS} started")
                    loaded = _phase(
                        "loaded",
                        stack,
                        api,
                        bare_url=bare.base_url + WEBHOOK_PATH,
                        options=options,
                        echo=echo,
                    )
                phases.append(loaded)
        finally:
            api.close()
        checks = [check for phase in phases for check in phase.checks]
        receiver_log = (workdir / "receiver.log").read_text(errors="replace")
        checks.append(
            check_errors("worker log", (workdir / "worker.log").read_text(errors="replace"))
        )
    checks.append(check_log(receiver_log))
    for check in checks:
        echo(check.line())
    ratio = _floor_ratio(phases, options, echo)
    echo(format_ratio(ratio))
    return E2eResult(latency=phases[0].latency, checks=checks, ratio=ratio)


@dataclass(frozen=True, slots=True)
class Phase:
    name: str
    latency: LatencySummary
    floor: LatencySummary
    checks: list[Check]


def _first_job(stack: Stack, api: JobsApi, options: E2eOptions) -> None:
    """One job through every process first, so all are up before anything is measured."""
    engine = stack.engine()
    try:
        first, _ = _submit(api, options, count=1)
        job_records.wait_until_settled(engine, first, SETTLE_TIMEOUT_SECONDS)
    finally:
        engine.dispose()


def _phase(
    name: str, stack: Stack, api: JobsApi, *, bare_url: str, options: E2eOptions, echo: Echo
) -> Phase:
    """The service's run at the rate, then the floor's run of the same webhooks and files."""
    echo(f"== {name} (load average {_load_average()}) ==")
    warmup = round(options.rate * options.warmup_seconds)
    measured_count = max(1, round(options.rate * options.seconds))
    ids, run = _submit(api, options, count=warmup + measured_count)
    measured = ids[warmup:]
    echo(f"warm-up: the first {warmup} jobs of the run (not measured)")
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
    posts = first_posts(deliveries)
    found = stages(posts, completed)
    checks = [
        Check(
            f"{name}: jobs ready",
            statuses["ready"] == len(measured),
            f"{statuses['ready']} of {len(measured)} ({dict(sorted(statuses.items()))})",
        ),
        _check_files(stack.audio_dir, files, name),
        _check_posts(found, posts, len(completed), name),
    ]
    measured_posts = [posts[c.generation_id] for c in completed if c.generation_id in posts]
    latency = _print_figures(echo, options, found, measured_posts)
    items = _floor_items(stack, deliveries, [c.generation_id for c in completed])
    echo(f"floor: the same {len(items)} webhooks to a bare endpoint, each file downloaded")
    floor = measure_floor(bare_url, items, options.rate, stack.workdir / f"floor-{name}")
    echo(
        f"floor paced: {floor.pacing.count} in {floor.pacing.seconds:.2f}s"
        f" (at most {floor.pacing.most_behind * 1000:.0f} ms behind schedule)"
    )
    acknowledged = LatencySummary.of(floor.acknowledged)
    echo(format_latency("floor: POST → 202 from the bare endpoint", acknowledged))
    floor_total = LatencySummary.of(floor.total)
    echo(format_latency("floor: POST → file downloaded and fsynced", floor_total))
    for label, value, base in (
        ("p50", latency.p50, floor_total.p50),
        ("p90", latency.p90, floor_total.p90),
        ("p99", latency.p99, floor_total.p99),
    ):
        echo(
            f"{name} {label}: {value * 1000:.1f} ms = {value / base:.1f}x"
            f" the floor's {base * 1000:.1f} ms"
        )
    return Phase(name, latency, floor_total, checks)


def _floor_items(
    stack: Stack, deliveries: list[dict[str, Any]], generation_ids: list[str]
) -> list[FloorItem]:
    """The measured generations' webhooks as sent, with a fresh link to each one's file."""
    first: dict[str, dict[str, Any]] = {}
    for delivery in deliveries:
        first.setdefault(str(delivery.get("resourceId")), delivery)
    items = []
    for generation_id in generation_ids:
        sent = first.get(generation_id)
        if sent is None:
            continue
        generation = stack.sandbox.call("GET", f"/generations/{generation_id}")
        items.append(
            FloorItem(
                body=str(sent["body"]).encode(),
                signature=str(sent["signature"]),
                download_url=str(generation["downloadUrl"]),
            )
        )
    if not items:
        raise BenchError("no webhook to measure the floor with")
    return items


def _floor_ratio(phases: list[Phase], options: E2eOptions, echo: Echo) -> float:
    """min(goal ÷ measured multiple): quiet p50 against 3x its floor, loaded p99 against 10x
    its floor (the loaded phase's p99, or the quiet one's without load)."""
    quiet = phases[0]
    loaded = phases[-1]
    p50_multiple = quiet.latency.p50 / quiet.floor.p50
    p99_multiple = loaded.latency.p99 / loaded.floor.p99
    for label, multiple, goal in (
        (f"{quiet.name} p50", p50_multiple, options.p50_floor_goal),
        (f"{loaded.name} p99", p99_multiple, options.p99_floor_goal),
    ):
        verdict = "met" if multiple <= goal else "MISSED"
        echo(f"goal {label} ≤ {goal:g}x the floor: {verdict} ({multiple:.1f}x)")
    echo(
        f"ratio: the smaller of {options.p50_floor_goal:g} ÷ ({quiet.name} p50 ÷ floor p50) and"
        f" {options.p99_floor_goal:g} ÷ ({loaded.name} p99 ÷ floor p99) (1 or more: both met)"
    )
    return min(options.p50_floor_goal / p50_multiple, options.p99_floor_goal / p99_multiple)


def _load_average() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def script_of(chars: int) -> str:
    """A script of exactly `chars` characters (the sandbox speaks ~14 a second)."""
    repeated = SENTENCE * (chars // len(SENTENCE) + 1)
    return repeated[:chars].strip() or "Hello."


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
    echo(format_latency("2xx seen → a worker claims it", LatencySummary.of(found.after_ack)))
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


def _check_files(audio_dir: Path, files: list[tuple[str, int]], phase: str) -> Check:
    wrong = [
        path
        for path, size in files
        if not (audio_dir / path).is_file() or (audio_dir / path).stat().st_size != size
    ]
    detail = f"{len(files) - len(wrong)} of {len(files)} files on disk with the recorded size"
    return Check(f"{phase}: audio on disk", not wrong and bool(files), detail)


def _check_posts(found: Stages, posts: dict[str, Post], generations: int, phase: str) -> Check:
    refused = [post for post in posts.values() if not 200 <= (post.status_code or 0) < 300]
    passed = not found.unposted and not found.not_ready and not refused
    detail = (
        f"{generations - found.unposted} of {generations} generations' webhooks in the log,"
        f" {len(refused)} first attempts not answered 2xx"
    )
    return Check(f"{phase}: webhooks", passed, detail)


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
