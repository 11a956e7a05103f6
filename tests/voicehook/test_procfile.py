"""Each line of the Procfile starts, does its job, and stops cleanly on SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine

from tests.conftest import SECRET
from tests.processors.flow import Sandbox
from tests.services import LOG_TAIL_CHARS, ROOT, free_port, wait_for

DEADLINE_SECONDS = 180  # a hang guard for each start and stop, never a measure
pytestmark = pytest.mark.timeout(900)


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


def run_line(command: str, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        ["bash", "-c", f"exec {command}"],
        env=env,
        cwd=ROOT,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def stop(process: subprocess.Popen[bytes], log: Path) -> None:
    """SIGTERM, as a PaaS sends it: the process drains and exits 0 (the deadline is a hang
    guard; how long a stop takes is not measured here)."""
    os.killpg(process.pid, signal.SIGTERM)
    code = process.wait(DEADLINE_SECONDS)
    assert code == 0, log.read_text()[-LOG_TAIL_CHARS:]


class TestProcfileLines:
    def test_release_then_every_process_starts_answers_and_stops(
        self, paas_env: dict[str, str], migrated_engine: Engine, tmp_path: Path
    ) -> None:
        """release migrates; web answers on $PORT; worker and sweeper run; all exit 0 on SIGTERM."""
        entries = procfile()
        release = subprocess.run(
            ["bash", "-c", entries["release"]],
            env=paas_env, cwd=ROOT, capture_output=True, text=True, check=False, timeout=60,
        )  # fmt: skip
        assert release.returncode == 0, release.stderr
        logs = {name: tmp_path / f"{name}.log" for name in ("web", "worker", "sweeper")}
        processes = {name: run_line(entries[name], paas_env, logs[name]) for name in logs}
        try:
            url = f"http://127.0.0.1:{paas_env['PORT']}"

            def web_ready() -> bool:
                try:
                    return httpx.get(url + "/readyz", timeout=1).status_code == 200
                except httpx.HTTPError:
                    return False

            wait_for(
                web_ready, DEADLINE_SECONDS, description="web is ready", log=logs["web"].read_text
            )
            wait_for(
                lambda: "Worker process is ready" in logs["worker"].read_text(),
                DEADLINE_SECONDS,
                description="the worker is ready",
                log=logs["worker"].read_text,
            )
            wait_for(
                lambda: "sweeper.started" in logs["sweeper"].read_text(),
                DEADLINE_SECONDS,
                description="the sweeper started",
                log=logs["sweeper"].read_text,
            )
            for name, process in processes.items():
                assert process.poll() is None, f"{name} exited:\n{logs[name].read_text()}"
        finally:
            for name, process in processes.items():
                if process.poll() is None:
                    stop(process, logs[name])


class TestHoncho:
    def test_honcho_start_runs_the_service_against_postgres_and_redis(
        self, paas_env: dict[str, str], migrated_engine: Engine, tmp_path: Path
    ) -> None:
        """`honcho start web worker sweeper` serves, and Ctrl-C stops every process."""
        log = tmp_path / "honcho.log"
        no_dotenv = tmp_path / "empty.env"  # not the developer's ./.env, which honcho reads
        no_dotenv.write_text("")
        honcho = subprocess.Popen(
            [str(ROOT / ".venv" / "bin" / "honcho"), "start", "-p", paas_env["PORT"],
             "--env", str(no_dotenv), "web", "worker", "sweeper"],
            env=paas_env, cwd=ROOT, stdout=log.open("ab"), stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        try:
            url = f"http://127.0.0.1:{paas_env['PORT']}"

            def serving() -> bool:
                try:
                    return httpx.get(url + "/readyz", timeout=1).status_code == 200
                except httpx.HTTPError:
                    return False

            wait_for(serving, DEADLINE_SECONDS, description="web is ready", log=log.read_text)
            wait_for(
                lambda: "Worker process is ready" in log.read_text(),
                DEADLINE_SECONDS,
                description="the worker is ready",
                log=log.read_text,
            )
            wait_for(
                lambda: "sweeper.started" in log.read_text(),
                DEADLINE_SECONDS,
                description="the sweeper started",
                log=log.read_text,
            )
        finally:
            os.killpg(honcho.pid, signal.SIGINT)
            honcho.wait(DEADLINE_SECONDS)
        output = log.read_text()
        for name in ("web.1", "worker.1", "sweeper.1"):
            assert f"{name} stopped" in output
        assert "Application shutdown complete" in output  # uvicorn drained, not killed
