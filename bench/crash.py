"""`python -m bench crash`: SIGKILL the worker's process tree at random points while jobs are
submitted, downloaded and completed, with the sandbox's faults on; then every job must have
settled, and the upstream's figures must agree with the service's records.

Time is scaled: a 60-per-10 s budget, a 1 s sweeper, leases of seconds (`SCALED_ENV`). Each
round adds its share of the jobs, starts `voicehook worker`, waits until it is ready, lets it
work for a random while (so kills land in submissions, downloads and completions alike) and
kills its whole process group. After the last kill a worker runs until everything settles.
"""

from __future__ import annotations

import random
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from bench.crash_checks import SETTLED, check_drill, read_recorded
from bench.databases import DatabaseKind, bench_database
from bench.report import format_ratio, redact_url
from bench.sandbox_process import SandboxOptions
from bench.servers import stop_checked
from bench.service_stack import Stack, bench_workdir, running_stack
from bench.verify import Check
from sandbox.voices import DEFAULT_VOICE
from voicehook.child_process import ChildProcess

Echo = Callable[[str], None]

LIMIT, WINDOW = 60, 10.0
SCALED_ENV = {
    "VPAI_RATE_LIMIT": str(LIMIT),
    "VPAI_RATE_WINDOW_SECONDS": str(WINDOW),
    "VPAI_RATE_MARGIN_SECONDS": "0.5",
    "VPAI_TIMEOUT_SECONDS": "5",
    "SWEEPER_INTERVAL_SECONDS": "1",
    "SWEEPER_MIN_AGE_SECONDS": "2",
    "SWEEPER_STUCK_AFTER_SECONDS": "30",
    "BROKER_HEARTBEAT_TIMEOUT_SECONDS": "5",
    "EVENT_LEASE_SECONDS": "15",
    "SUBMITTING_LEASE_SECONDS": "5",
    "SUBMISSION_REVIEW_AFTER_SECONDS": "45",
    "RECONCILE_AFTER_SECONDS": "10",
    "RECONCILE_MAX_POLLS": "4",
    "DOWNLOAD_RETRY_BACKOFF_SECONDS": "0.5,1,2,4",
    "JOB_RETRY_BACKOFF_SECONDS": "1,2",
    "WORKER_PROCESSES": "1",
    "WORKER_THREADS": "2",
}
FAULTS = {
    "webhookDuplicateRate": 0.1,
    "webhookReorderRate": 0.1,
    "apiErrorRate": 0.05,
    "downloadTruncateRate": 0.1,
    "downloadCorruptRate": 0.1,
    "generationFailureRate": 0.05,
}
READY_LINE = "Worker process is ready"
BOOT_TIMEOUT_SECONDS = 60.0
STOP_TIMEOUT_SECONDS = 40.0  # the worker gives in-flight messages 20 s, then requeues them
STALL_SECONDS = 120.0  # no job settled for this long after the kills: the rest are stuck


@dataclass(frozen=True, slots=True)
class CrashOptions:
    jobs: int = 100
    kills: int = 20
    seed: int = 1
    database: DatabaseKind = DatabaseKind.SQLITE
    database_url: str | None = None  # sqlite: default a fresh file; postgresql: required
    max_work_seconds: float = 2.5  # a worker runs up to this long after it is ready
    settle_timeout_seconds: float = 600.0
    keep_workdir: bool = False


@dataclass(frozen=True, slots=True)
class CrashResult:
    kills: int
    checks: list[Check]

    @property
    def passed(self) -> bool:
        return all(check.passed for check in self.checks)


def run_crash_drill(options: CrashOptions, echo: Echo) -> CrashResult:
    """Run the drill, printing as it goes; the caller prints nothing after the ratio."""
    rng = random.Random(options.seed)
    sandbox_options = SandboxOptions(
        rate_limit=LIMIT, rate_window_seconds=WINDOW, seed=options.seed
    )
    with (
        bench_workdir(options.keep_workdir, echo) as workdir,
        bench_database(options.database, options.database_url, workdir) as database_url,
        running_stack(workdir, sandbox_options, SCALED_ENV, database_url) as stack,
    ):
        stack.sandbox.call("PATCH", "/faults", FAULTS)
        credits_before = _credits(stack)
        echo(f"drill: {options.jobs} jobs, {options.kills} SIGKILLs of the worker's tree")
        echo(f"database: {options.database.value} {redact_url(database_url)}")
        echo(f"faults: {FAULTS}")
        with _start(stack, "sweeper", workdir / "sweeper.log"):
            kills = _kill_rounds(stack, options, rng, workdir, echo)
            settled = _settle(stack, options, workdir, echo)
        engine = stack.engine()
        try:
            recorded = read_recorded(engine)
        finally:
            engine.dispose()
        upstream = stack.sandbox.call("GET", "/generations")["items"]
        spent = credits_before - _credits(stack)
        checks = [
            Check("kills", kills >= options.kills, f"{kills} SIGKILLs of the worker's tree"),
            Check("settled in time", settled, "every job ready, failed or in review"),
            *check_drill(recorded, upstream, spent, stack.audio_dir),
        ]
    for check in checks:
        echo(check.line())
    passed = sum(check.passed for check in checks)
    echo("ratio: checks passed ÷ checks")
    echo(format_ratio(passed / len(checks)))
    return CrashResult(kills=kills, checks=checks)


def _kill_rounds(
    stack: Stack, options: CrashOptions, rng: random.Random, workdir: Path, echo: Echo
) -> int:
    api = stack.jobs_api()
    api.create_customer()
    made = 0
    log = workdir / "worker.log"
    try:
        for round_number in range(options.kills):
            share = options.jobs * (round_number + 1) // options.kills - made
            for _ in range(share):
                audio_format = "wav" if made % 2 else "mp3"
                api.create_job(
                    DEFAULT_VOICE.id, f"Crash drill job {made}: say it once.", audio_format
                )
                made += 1
            offset = log.stat().st_size if log.exists() else 0
            worker = _start(stack, "worker", log)
            worker.wait_until_ready(
                partial(_log_says_ready, log, offset), timeout=BOOT_TIMEOUT_SECONDS
            )
            time.sleep(rng.uniform(0.2, options.max_work_seconds))  # the kill's random point
            worker.kill()  # SIGKILL to its whole session: the Dramatiq processes too
            echo(f"kill {round_number + 1}: {_statuses(stack)}")
    finally:
        api.close()
    return options.kills


def _settle(stack: Stack, options: CrashOptions, workdir: Path, echo: Echo) -> bool:
    """A worker runs undisturbed until every job has settled (or nothing moves any more)."""
    worker = _start(stack, "worker", workdir / "worker.log")
    deadline = time.monotonic() + options.settle_timeout_seconds
    last_change, last = time.monotonic(), ""
    try:
        while time.monotonic() < deadline:
            statuses = _statuses(stack)
            if statuses != last:
                last, last_change = statuses, time.monotonic()
                echo(f"settling: {statuses}")
            if _all_settled(stack):
                return True
            if time.monotonic() - last_change > STALL_SECONDS:
                return False
            time.sleep(1.0)
        return False
    finally:
        stop_checked(worker)


def _all_settled(stack: Stack) -> bool:
    engine = stack.engine()
    try:
        recorded = read_recorded(engine)
    finally:
        engine.dispose()
    return all(j["status"] in SETTLED for j in recorded.jobs if j["tracked"])


def _statuses(stack: Stack) -> str:
    engine = stack.engine()
    try:
        recorded = read_recorded(engine)
    finally:
        engine.dispose()
    counts: dict[str, int] = {}
    for job in recorded.jobs:
        key = job["status"] if job["tracked"] else f"untracked {job['status']}"
        counts[key] = counts.get(key, 0) + 1
    return ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))


def _credits(stack: Stack) -> int:
    return int(stack.sandbox.call("GET", "/workspaces/default")["credits"])


def _start(stack: Stack, command: str, log_path: Path) -> ChildProcess:
    """`voicehook COMMAND` in a session of its own, so a SIGKILL takes its whole tree."""
    return ChildProcess.start(
        [sys.executable, "-m", "voicehook", command],
        name=f"voicehook {command}",
        env=stack.env,
        log_path=log_path,
        own_session=True,
        grace_seconds=STOP_TIMEOUT_SECONDS,
    )


def _log_says_ready(log: Path, offset: int) -> bool:
    with log.open("rb") as file:
        file.seek(offset)
        return READY_LINE.encode() in file.read()
