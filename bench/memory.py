"""`python -m bench memory`: a worker's resident memory while it downloads a 200 MB file
(`--store s3`: and uploads it to a bucket on a throwaway S3 server).

A real `voicehook worker` (one events process, so there is one process to watch) gets a
`generation.ready` for a sandbox generation of the given size. Its events process is sampled
from /proc before (idle, after one small download so that every code path is loaded) and
during the download; the kernel's own peak (VmHWM, reset just before the event is sent)
catches what falls between samples.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine

from bench import job_records, process_stats
from bench.errors import BenchError
from bench.pacing import Sampler
from bench.process_stats import BYTES_PER_MB, MemoryGrowth, growth, megabytes
from bench.report import format_ratio
from bench.sandbox_process import SandboxOptions
from bench.service_stack import Stack, bench_workdir, running_stack
from bench.throwaway_s3 import throwaway_s3
from bench.verify import Check
from bench.worker_process import event_worker_pids, running_worker
from config.settings import Settings
from sandbox.audio import SAMPLE_RATE, SAMPLE_WIDTH
from storage.build import open_store, s3_client

Echo = Callable[[str], None]

WAV_BYTES_PER_SECOND = SAMPLE_RATE * SAMPLE_WIDTH  # mono 16-bit
WARMUP_SECONDS_OF_AUDIO = 5
SAMPLE_SECONDS = 0.01
POLL_SECONDS = 0.1
START_TIMEOUT_SECONDS = 60.0
DOWNLOAD_TIMEOUT_SECONDS = 300.0


@dataclass(frozen=True, slots=True)
class MemoryOptions:
    size_mb: float = 200.0
    goal_mb: float = 50.0
    idle_seconds: float = 2.0
    keep_workdir: bool = False
    store: str = "local"  # where the worker puts the file: "local" (AUDIO_DIR) or "s3"


@dataclass(frozen=True, slots=True)
class MemoryResult:
    growth: MemoryGrowth
    checks: list[Check]
    ratio: float

    @property
    def passed(self) -> bool:
        return all(check.passed for check in self.checks)


def duration_for(size_mb: float) -> int:
    """Seconds of sandbox wav audio that make a file of at least `size_mb` MB."""
    return math.ceil(size_mb * BYTES_PER_MB / WAV_BYTES_PER_SECOND)


def run_memory_bench(options: MemoryOptions, echo: Echo) -> MemoryResult:
    """Run the bench, printing as it goes; the caller prints nothing after the ratio."""
    sandbox_options = SandboxOptions(rate_limit=60, rate_window_seconds=60)
    with (
        bench_workdir(options.keep_workdir, echo) as workdir,
        _store_env(options.store, workdir, echo) as store_env,
        running_stack(workdir, sandbox_options, {"WORKER_PROCESSES": "1", **store_env}) as stack,
        running_worker(stack.env, workdir / "worker.log") as worker,
        _engine(stack) as engine,
    ):
        pid = _events_process(worker.pid)
        echo(f"worker: `voicehook worker` pid {worker.pid}; its events process: pid {pid}")
        _download(stack, engine, WARMUP_SECONDS_OF_AUDIO)
        echo(f"warm-up: one {WARMUP_SECONDS_OF_AUDIO}s generation downloaded (not measured)")
        generation = stack.sandbox.call(
            "POST",
            "/generations",
            {
                "format": "wav",
                "durationSec": duration_for(options.size_mb),
                "outcome": "ready",
                "notify": False,  # the event is sent once the worker has been seen idle
            },
        )
        size = int(generation["sizeBytes"])
        echo(f"generation: {generation['id']}, {size / BYTES_PER_MB:.1f} MB wav")
        idle = _rss_for(pid, options.idle_seconds)
        if job_records.job_of_generation(engine, str(generation["id"]))[0] != "unknown":
            raise BenchError("the worker heard of the generation before it was sent")
        reset = process_stats.reset_peak(pid)
        started = time.monotonic()
        with Sampler(lambda: _rss(pid), SAMPLE_SECONDS) as sampler:
            status, path, stored = _send_and_wait(stack, engine, str(generation["id"]))
        seconds = time.monotonic() - started
        after = process_stats.memory(pid)
        on_disk = _stored_size(stack, store_env, path)
    kernel_peak = after.peak_kib if reset and after is not None else None
    during = [rss for rss in sampler.samples if rss is not None]
    found = growth(idle, during, kernel_peak)
    peak_source = "VmHWM reset before the event" if kernel_peak is not None else "samples only"
    echo(f"download: event sent → job {status} in {seconds:.1f}s ({len(during)} RSS samples)")
    echo(f"idle RSS: {megabytes(found.idle_kib):.1f} MB (median of {len(idle)} samples)")
    echo(f"peak RSS: {megabytes(found.peak_kib):.1f} MB ({peak_source})")
    echo(f"delta: {megabytes(found.delta_kib):.1f} MB (goal ≤ {options.goal_mb:g} MB)")
    checks = [
        Check("job ready", status == "ready", f"job of {generation['id']} is {status}"),
        Check(
            f"audio in the {options.store} store",
            on_disk == size == stored,
            f"{on_disk} bytes stored, {stored} recorded, {size} served",
        ),
    ]
    for check in checks:
        echo(check.line())
    ratio = megabytes(found.delta_kib) / options.goal_mb
    echo(f"ratio: peak - idle RSS ÷ {options.goal_mb:g} MB (1 or less: goal met)")
    echo(format_ratio(ratio))
    return MemoryResult(growth=found, checks=checks, ratio=ratio)


@contextmanager
def _store_env(kind: str, workdir: Path, echo: Echo) -> Iterator[dict[str, str]]:
    """The worker's store settings: none for the local store; a fresh bucket on a throwaway
    S3 server (moto_server, a process of its own) for `s3`."""
    if kind == "local":
        yield {}
        return
    if kind != "s3":
        raise BenchError(f"--store is local or s3, not {kind!r}")
    with throwaway_s3(workdir / "moto.log") as server:
        env = server.env("bench-audio")
        s3_client(_settings(env, workdir)).create_bucket(Bucket="bench-audio")
        echo(f"store: {env['STORAGE_URL']} on moto_server at {server.endpoint_url}")
        yield env


def _settings(env: dict[str, str], audio_dir: Path) -> Settings:
    return Settings.model_validate(
        {**{k.lower(): v for k, v in env.items()}, "audio_dir": audio_dir}
    )


def _stored_size(stack: Stack, store_env: dict[str, str], key: str | None) -> int | None:
    if key is None:
        return None
    found = open_store(_settings(store_env, stack.audio_dir)).stat(key)
    return None if found is None else found.size


def _events_process(worker_pid: int) -> int:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        pids = event_worker_pids(worker_pid)
        if len(pids) == 1:
            return pids[0]
        if len(pids) > 1:
            raise BenchError(f"expected one events process, found {pids}")
        time.sleep(POLL_SECONDS)
    raise BenchError(f"no events process under the worker after {START_TIMEOUT_SECONDS:.0f}s")


@contextmanager
def _engine(stack: Stack) -> Iterator[Engine]:
    engine = stack.engine()
    try:
        yield engine
    finally:
        engine.dispose()


def _download(stack: Stack, engine: Engine, seconds_of_audio: int) -> None:
    generation = stack.sandbox.call(
        "POST",
        "/generations",
        {"format": "wav", "durationSec": seconds_of_audio, "outcome": "ready", "notify": True},
    )
    status, _, _ = _wait_for_job(engine, str(generation["id"]))
    if status != "ready":
        raise BenchError(f"the warm-up download ended {status}")


def _send_and_wait(
    stack: Stack, engine: Engine, generation_id: str
) -> tuple[str, str | None, int | None]:
    stack.sandbox.call("POST", "/trigger", {"event": "generation.ready", "id": generation_id})
    return _wait_for_job(engine, generation_id)


def _wait_for_job(engine: Engine, generation_id: str) -> tuple[str, str | None, int | None]:
    deadline = time.monotonic() + DOWNLOAD_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        found = job_records.job_of_generation(engine, generation_id)
        if found[0] in ("ready", "failed"):
            return found
        time.sleep(POLL_SECONDS)
    raise BenchError(
        f"the job of {generation_id} did not settle in {DOWNLOAD_TIMEOUT_SECONDS:.0f}s"
    )


def _rss(pid: int) -> int | None:
    memory = process_stats.memory(pid)
    return memory.rss_kib if memory is not None else None


def _rss_for(pid: int, seconds: float) -> list[int]:
    samples: list[int] = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        rss = _rss(pid)
        if rss is None:
            raise BenchError(f"the events process {pid} is gone")
        samples.append(rss)
        time.sleep(SAMPLE_SECONDS)
    if not samples:
        raise BenchError("no idle samples")
    return samples
