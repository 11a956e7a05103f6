"""Each line of the Procfile starts, does its job, and stops cleanly on SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine

from tests.conftest import SECRET
from tests.processors.flow import Sandbox
from tests.services import ROOT, free_port
from voicehook.child_process import ChildProcess

PAAS_GRACE_SECONDS = 30  # a PaaS's usual time between SIGTERM and SIGKILL
# A hang guard above the sum of a test's own waits (three starts of up to 180 s each, then
# the stops): on a loaded machine three Python services take minutes to start, which is
# slow but no defect; the project-wide 180 s would cut them off mid-start.
PROCESSES_TIMEOUT_SECONDS = 900


def procfile() -> dict[str, str]:
    lines = (ROOT / "Procfile").read_text().splitlines()
    return dict(line.split(": ", 1) for line in lines if line.strip())


def test_procfile_names_the_expected_process_types() -> None:
    """release, web, worker and sweeper, each running the voicehook command."""
    entries = procfile()
    assert set(entries) == {"release", "web", "worker", "sweeper"}
    assert all(command.startswith("voicehook ") for command in entries.values())


@pytest.fixture
def paas_env(database_url: str, redis_url: str, vpai: Sandbox, tmp_path: Path) -> dict[str, str]:
    """What a PaaS would set: service URLs, secrets, a port."""
    return {
        **os.environ,
        "PATH": f"{ROOT / '.venv' / 'bin'}:{os.environ['PATH']}",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "VPAI_WEBHOOK_SECRETS": SECRET,
        "VPAI_API_BASE_URL": vpai.server.api_base_url,
        "VPAI_API_KEY": vpai.server.api_key,
        "AUDIO_DIR": str(tmp_path / "audio"),
        "PORT": str(free_port()),
        "WEB_CONCURRENCY": "2",
        "WORKER_PROCESSES": "1",
        "WORKER_THREADS": "1",
    }


def run_line(name: str, command: str, env: dict[str, str], log: Path) -> ChildProcess:
    """One Procfile line as a platform runs it: a shell's `exec`, in a session of its own."""
    return ChildProcess.start(
        ["bash", "-c", f"exec {command}"],
        name=name,
        env=env,
        cwd=ROOT,
        log_path=log,
        own_session=True,
        grace_seconds=PAAS_GRACE_SECONDS,
    )


def logged(path: Path, text: str) -> Callable[[], bool]:
    return lambda: text in path.read_text()


def readyz(url: str) -> Callable[[], bool]:
    def answers() -> bool:
        try:
            return httpx.get(url + "/readyz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    return answers


class TestProcfileLines:
    @pytest.mark.timeout(PROCESSES_TIMEOUT_SECONDS)
    def test_release_then_every_process_starts_answers_and_stops(
        self, paas_env: dict[str, str], migrated_engine: Engine, tmp_path: Path
    ) -> None:
        """release migrates; web answers on $PORT; worker and sweeper run; all exit 0 on a
        SIGTERM to their whole group, within a PaaS's usual grace period (else SIGKILL)."""
        entries = procfile()
        release = subprocess.run(
            ["bash", "-c", entries["release"]],
            env=paas_env, cwd=ROOT, capture_output=True, text=True, check=False, timeout=60,
        )  # fmt: skip
        assert release.returncode == 0, release.stderr
        logs = {name: tmp_path / f"{name}.log" for name in ("web", "worker", "sweeper")}
        processes = {name: run_line(name, entries[name], paas_env, logs[name]) for name in logs}
        try:
            url = f"http://127.0.0.1:{paas_env['PORT']}"
            processes["web"].wait_until_ready(readyz(url), timeout=180)
            processes["worker"].wait_until_ready(
                logged(logs["worker"], "Worker process is ready"), timeout=180
            )
            processes["sweeper"].wait_until_ready(
                logged(logs["sweeper"], "sweeper.started"), timeout=180
            )
            for name, process in processes.items():
                assert process.poll() is None, f"{name} exited:\n{process.log_tail()}"
        finally:
            codes = {name: process.stop(group=True) for name, process in processes.items()}
        for name, code in codes.items():
            assert code == 0, f"{name} exited with {code}:\n{processes[name].log_tail()}"


class TestHoncho:
    @pytest.mark.timeout(PROCESSES_TIMEOUT_SECONDS)
    def test_honcho_start_runs_the_service_against_postgres_and_redis(
        self, paas_env: dict[str, str], migrated_engine: Engine, tmp_path: Path
    ) -> None:
        """`honcho start web worker sweeper` serves, and Ctrl-C stops every process."""
        log = tmp_path / "honcho.log"
        honcho = ChildProcess.start(
            [str(ROOT / ".venv" / "bin" / "honcho"), "start", "-p", paas_env["PORT"],
             "web", "worker", "sweeper"],
            name="honcho", env=paas_env, cwd=ROOT, log_path=log, own_session=True,
            grace_seconds=40,
        )  # fmt: skip
        try:
            url = f"http://127.0.0.1:{paas_env['PORT']}"
            honcho.wait_until_ready(readyz(url), timeout=180)
            honcho.wait_until_ready(logged(log, "Worker process is ready"), timeout=180)
            honcho.wait_until_ready(logged(log, "sweeper.started"), timeout=180)
        finally:
            honcho.stop(signum=signal.SIGINT, group=True)  # a terminal's Ctrl-C
        output = log.read_text()
        for name in ("web.1", "worker.1", "sweeper.1"):
            assert f"{name} stopped" in output
        assert "Application shutdown complete" in output  # uvicorn drained, not killed
