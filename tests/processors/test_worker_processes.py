"""Real processes: receiver, workers and sweeper against the sandbox, killed and restarted."""

from __future__ import annotations

import contextlib
import hashlib
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine

from processors.audio import verify_audio
from records.jobs import JOBS
from sandbox.server import run_sandbox
from sandbox.settings import SandboxSettings
from sandbox.voices import DEFAULT_VOICE
from tests.conftest import SECRET, make_settings
from tests.in_process import Served, served_receiver_client
from tests.processors.flow import Sandbox, all_jobs, attempts, customer, job
from tests.receiver.conftest import receiver_env
from tests.services import LOG_TAIL_CHARS, ROOT, ServerProcess, wait_for
from voicehook.child_process import descendants

STOP_SECONDS = 60  # `voicehook worker` gives in-flight messages 20 s; the rest guards a hang

TOKEN = "admin-e2e"
AUTH = {"authorization": f"Bearer {TOKEN}"}


class Processes:
    """The service's processes for one test, all sharing one environment."""

    def __init__(self, env: dict[str, str], tmp_path: Path) -> None:
        self.env = env
        self.tmp_path = tmp_path
        self.children: list[subprocess.Popen[bytes]] = []

    def start(
        self, *args: str, name: str, env: dict[str, str] | None = None
    ) -> subprocess.Popen[bytes]:
        """`voicehook *args` with the shared environment (plus `env`), logging to `name`.log."""
        log = (self.tmp_path / f"{name}.log").open("ab")
        child = subprocess.Popen(
            [sys.executable, "-m", "voicehook", *args],
            env={**os.environ, **self.env, **(env or {})},
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.children.append(child)
        return child

    def logs(self) -> str:
        """Every process's log, each under its name (for a failed wait)."""
        return "\n".join(
            f"=== {path.stem} ===\n{path.read_text(errors='replace')[-LOG_TAIL_CHARS // 2 :]}"
            for path in sorted(self.tmp_path.glob("*.log"))
        )

    def kill(self, child: subprocess.Popen[bytes]) -> None:
        """SIGKILL it and every process below it, as a crash of the machine would: its
        Dramatiq processes run in sessions of their own, out of reach of its group."""
        for pid in [child.pid, *descendants(child.pid)]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        child.wait(30)

    def stop_all(self) -> None:
        for child in self.children:
            if child.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(child.pid, signal.SIGTERM)
                child.wait(STOP_SECONDS)


def process_env(database_url: str, redis_url: str, vpai: Sandbox, **extra: str) -> dict[str, str]:
    """The environment of the service's processes in these tests: fast sweeps, short leases."""
    return receiver_env(
        database_url,
        redis_url,
        ADMIN_TOKEN=TOKEN,
        VPAI_API_BASE_URL=vpai.server.api_base_url,
        VPAI_API_KEY=vpai.server.api_key,
        SWEEPER_INTERVAL_SECONDS="0.5",
        SWEEPER_MIN_AGE_SECONDS="2",
        EVENT_LEASE_SECONDS="3",
        WORKER_PROCESSES="1",
        WORKER_THREADS="2",
        **extra,
    )


@pytest.fixture
def service(
    database_url: str,
    redis_url: str,
    migrated_engine: Engine,
    vpai: Sandbox,
    tmp_path: Path,
) -> Iterator[tuple[Served, Processes]]:
    """The receiver (with the internal API) and the sandbox posting webhooks to it."""
    env = process_env(
        database_url, redis_url, vpai, AUDIO_DIR=str(tmp_path / "audio"), LOG_LEVEL="debug"
    )
    # The receiver is served on a thread of this process (the sandbox posts to it over HTTP);
    # the workers and the sweeper, which the tests kill, are processes.
    settings = make_settings(
        database_url, redis_url, admin_token=TOKEN, audio_dir=str(tmp_path / "audio")
    )
    with served_receiver_client(settings) as receiver:
        vpai.control.post(
            "/webhook-endpoints",
            json={"url": receiver.url + "/webhooks/voiceproductionai", "secret": SECRET},
        ).raise_for_status()
        processes = Processes(env, tmp_path)
        try:
            yield receiver, processes
        finally:
            processes.stop_all()


def submit(receiver: Served | ServerProcess, script: str = "Hello from the other side.") -> str:
    httpx.post(
        receiver.url + "/api/customers", json={"externalRef": "acme", "name": "Acme"}, headers=AUTH
    ).raise_for_status()
    response = httpx.post(
        receiver.url + "/api/jobs",
        json={
            "customerRef": "acme",
            "voiceId": DEFAULT_VOICE.id,
            "script": script,
            "format": "wav",
        },
        headers=AUTH,
    )
    assert response.status_code == 202, response.text
    return str(response.json()["id"])


def job_document(receiver: Served | ServerProcess, job_id: str) -> dict[str, Any]:
    document: dict[str, Any] = httpx.get(f"{receiver.url}/api/jobs/{job_id}", headers=AUTH).json()
    return document


class TestEndToEnd:
    def test_job_to_audio_through_every_process(
        self, service: tuple[Served, Processes], migrated_engine: Engine, vpai: Sandbox
    ) -> None:
        """Internal API → worker submits → sandbox webhook → receiver → worker downloads."""
        receiver, processes = service
        processes.start("worker", name="worker")
        job_id = submit(receiver)
        wait_for(
            lambda: job_document(receiver, job_id)["status"] == "ready",
            120,
            description="the job is ready",
            log=processes.logs,
        )
        document = job_document(receiver, job_id)
        assert document["attempts"][0]["status"] == "ready"
        audio = httpx.get(f"{receiver.url}/api/jobs/{job_id}/audio", headers=AUTH)
        assert audio.status_code == 200
        assert hashlib.sha256(audio.content).hexdigest() == document["audio"]["sha256"]
        assert customer(migrated_engine).jobs_ready == 1


class TestCrashMidDownload:
    def test_sigkill_mid_download_then_redelivery_completes_once(
        self,
        service: tuple[Served, Processes],
        migrated_engine: Engine,
        vpai: Sandbox,
        tmp_path: Path,
    ) -> None:
        """A worker killed mid-download leaves no file; the next one completes the job once."""
        receiver, processes = service
        vpai.faults(downloadSlowRate=1.0, downloadSlowBytesPerSecond=20_000)
        worker = processes.start("worker", name="worker-1")
        job_id = submit(receiver, script="A longer script, so the file takes a while. " * 4)
        audio_dir = tmp_path / "audio"
        wait_for(
            lambda: any(audio_dir.rglob("*.part")),
            120,
            description="a partial download appeared",
            log=processes.logs,
        )
        processes.kill(worker)  # SIGKILL the whole worker, mid-download
        assert job(migrated_engine, job_id).status != "ready"
        assert not [p for p in audio_dir.rglob("*.wav") if not p.name.startswith(".")]

        vpai.faults(downloadSlowRate=0.0)
        processes.start("worker", name="worker-2")
        processes.start("sweeper", name="sweeper")
        wait_for(
            lambda: job(migrated_engine, job_id).status == "ready",
            120,
            description="the job is ready after the crash",
            log=processes.logs,
        )
        done = job(migrated_engine, job_id)
        assert done.audio_path is not None
        path = audio_dir / done.audio_path
        facts = verify_audio(path, "wav", None)
        assert facts.size == done.audio_bytes
        assert hashlib.sha256(path.read_bytes()).hexdigest() == done.audio_sha256
        assert customer(migrated_engine).jobs_ready == 1
        assert [a.status for a in attempts(migrated_engine, job_id)] == ["ready"]


class TestSharedBudget:
    def test_two_worker_processes_never_exceed_the_budget(
        self, database_url: str, redis_url: str, migrated_engine: Engine, tmp_path: Path
    ) -> None:
        """Two workers submitting 14 jobs under a 5-per-2s limit: all submitted, zero 429s."""
        limited = SandboxSettings(
            speech="tone", seed=5, rate_limit_requests=5, rate_limit_window_seconds=2
        )
        with ExitStack() as stack, run_sandbox(limited) as sandbox:
            env = receiver_env(
                database_url,
                redis_url,
                ADMIN_TOKEN=TOKEN,
                AUDIO_DIR=str(tmp_path / "audio"),
                VPAI_API_BASE_URL=sandbox.api_base_url,
                VPAI_API_KEY=sandbox.api_key,
                VPAI_RATE_LIMIT="5",
                VPAI_RATE_WINDOW_SECONDS="2",
                VPAI_RATE_MARGIN_SECONDS="0.3",
                WORKER_PROCESSES="1",
                WORKER_THREADS="2",
            )
            settings = make_settings(
                database_url, redis_url, admin_token=TOKEN, audio_dir=str(tmp_path / "audio")
            )
            receiver = stack.enter_context(served_receiver_client(settings))
            processes = Processes(env, tmp_path)
            try:
                job_ids = [submit(receiver, script=f"Job number {n}.") for n in range(14)]
                processes.start("worker", name="worker-a")
                processes.start("worker", name="worker-b")
                wait_for(
                    lambda: all(job(migrated_engine, j).attempts_made == 1 for j in job_ids),
                    180,
                    description="every job was submitted once",
                    log=processes.logs,
                )
                control = httpx.get(sandbox.url + "/sandbox/workspaces/default").json()
            finally:
                processes.stop_all()
        assert control["requests"]["rateLimited"] == 0
        assert control["requests"]["served"] >= 14


# Each way a worker is told to stop: signals to its whole process group (what honcho and a
# terminal's Ctrl-C do, once or followed by the runner's SIGTERM), or to every one of its
# processes (what a PaaS does to a dyno, once or twice).
STOP_PATTERNS = {
    "group-sigterm": ("group", (signal.SIGTERM,)),
    "group-double-sigterm": ("group", (signal.SIGTERM, signal.SIGTERM)),
    "ctrl-c": ("group", (signal.SIGINT,)),
    "ctrl-c-under-a-runner": ("group", (signal.SIGINT, signal.SIGTERM)),
    "every-process-sigterm": ("every", (signal.SIGTERM,)),
    "every-process-double-sigterm": ("every", (signal.SIGTERM, signal.SIGTERM)),
}


def alive(pid: int) -> bool:
    """Running, not exited (a zombie waiting for init to reap it has exited)."""
    try:
        return "\nState:\tZ" not in Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False


# Each way of stopping on SQLite; on PostgreSQL the harshest one only (what a PaaS does): how
# the worker drains is the same on both, and the database's part (the completion or the
# requeued claim) is the same whichever signal came.
DRAIN_CASES = [
    *(pytest.param(pattern, "sqlite", id=f"{pattern}-sqlite") for pattern in STOP_PATTERNS),
    pytest.param(
        "every-process-double-sigterm",
        "postgresql",
        marks=pytest.mark.postgres,
        id="every-process-double-sigterm-postgresql",
    ),
]


class TestDrainOnStop:
    @pytest.mark.parametrize(("pattern", "database_url"), DRAIN_CASES, indirect=["database_url"])
    def test_an_in_flight_download_completes_or_is_redelivered(
        self,
        service: tuple[Served, Processes],
        migrated_engine: Engine,
        vpai: Sandbox,
        tmp_path: Path,
        pattern: str,
    ) -> None:
        """Signalled mid-download, the worker drains (never "Killing worker process"), no
        process of it survives, and the job ends ready exactly once: finished in the grace
        period or fetched again."""
        receiver, processes = service
        vpai.faults(downloadSlowRate=1.0, downloadSlowBytesPerSecond=64_000)
        worker = processes.start("worker", name="worker-1")
        log = tmp_path / "worker-1.log"
        wait_for(
            lambda: log.read_text().count("Worker process is ready") >= 2,
            120,
            description="both Dramatiq masters have a ready worker process",
            log=processes.logs,
        )
        job_id = submit(receiver, script="A longer script, so the file takes a while. " * 2)
        audio_dir = tmp_path / "audio"
        wait_for(
            lambda: any(audio_dir.rglob("*.part")),
            120,
            description="a partial download appeared",
            log=processes.logs,
        )
        tree = [worker.pid, *descendants(worker.pid)]
        assert len(tree) >= 5  # voicehook worker, two Dramatiq masters, their worker processes
        target, signals = STOP_PATTERNS[pattern]
        for sig in signals:
            if target == "group":
                os.killpg(worker.pid, sig)
            else:
                for pid in tree:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, sig)
        code = worker.wait(STOP_SECONDS)
        output = log.read_text()
        assert "Killing worker process" not in output, output[-4000:]
        assert "Stopping worker process" in output, output[-4000:]
        assert code == 0, output[-4000:]
        assert [pid for pid in tree if alive(pid)] == [], output[-4000:]
        if job(migrated_engine, job_id).status != "ready":  # requeued: the next worker fetches it
            vpai.faults(downloadSlowRate=0.0)
            processes.start("worker", name="worker-2")
            processes.start("sweeper", name="sweeper")
            wait_for(
                lambda: job(migrated_engine, job_id).status == "ready",
                120,
                description="the requeued job is ready",
                log=processes.logs,
            )
        assert customer(migrated_engine).jobs_ready == 1
        assert [a.status for a in attempts(migrated_engine, job_id)] == ["ready"]


def upstream_generations(vpai: Sandbox) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = vpai.control.get("/generations").json()["items"]
    return items


class TestCrashMidSubmission:
    def test_sigkill_between_the_post_and_its_answer_adopts_the_generation(
        self, service: tuple[Served, Processes], migrated_engine: Engine, vpai: Sandbox
    ) -> None:
        """The issue's first failure, on purpose: the upstream made and charged the
        generation, the worker died before its answer came. The job is not submitted again
        (not by the redelivered message, not by the sweeper); the generation's webhook is
        adopted, and the job is ready with one attempt, one generation, one charge."""
        receiver, processes = service
        processes.env.update(
            SUBMITTING_LEASE_SECONDS="3",
            SUBMISSION_REVIEW_AFTER_SECONDS="600",
            BROKER_HEARTBEAT_TIMEOUT_SECONDS="5",  # the dead worker's message comes back
        )
        credits_before = vpai.workspace()["credits"]
        vpai.faults(generationAnswerDelaySeconds=60)
        worker = processes.start("worker", name="worker-1")
        job_id = submit(receiver)
        wait_for(
            lambda: len(upstream_generations(vpai)) == 1,
            120,
            description="the POST reached the upstream, which made the generation",
            log=processes.logs,
        )
        processes.kill(worker)  # SIGKILL the whole worker while it waits for the answer
        vpai.faults(generationAnswerDelaySeconds=0)
        [generation] = upstream_generations(vpai)
        [intent] = attempts(migrated_engine, job_id)
        assert (intent.status, intent.generation_id) == ("submitting", None)
        assert intent.intent_at is not None

        processes.start("worker", name="worker-2")
        processes.start("sweeper", name="sweeper")
        wait_for(
            lambda: job(migrated_engine, job_id).status == "ready",
            180,
            description="the job is ready by adoption",
            log=processes.logs,
        )
        done = job(migrated_engine, job_id)
        assert done.last_error is None
        [attempt] = attempts(migrated_engine, job_id)
        assert (attempt.status, attempt.generation_id) == ("ready", generation["id"])
        assert len(upstream_generations(vpai)) == 1  # never a second paid generation
        assert credits_before - vpai.workspace()["credits"] == generation["credits"]
        assert customer(migrated_engine).jobs_ready == 1
        assert all_jobs(migrated_engine, JOBS.c.tracked.is_(False)) == []
