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


def test_a_dotenv_is_never_committed() -> None:
    """The README has secrets go in a `.env` beside the Procfile: git ignores it."""
    ignored = (ROOT / ".gitignore").read_text().splitlines()
    assert ".env" in ignored


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


def readme_procfile_command() -> str:
    """The command the README's "Running the Procfile locally" gives, exactly as written."""
    readme = (ROOT / "README.md").read_text()
    section = readme.split("### Running the Procfile locally", 1)[1].split("\n### ", 1)[0]
    block = section.split("```sh\n", 1)[1].split("```", 1)[0]
    [command] = [line for line in block.splitlines() if line.startswith("honcho ")]
    return command


class TestHoncho:
    # How honcho starts and stops the lines does not depend on the database, whose part (the
    # release's migration, the processes on it) TestProcfileLines checks on both.
    @pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
    @pytest.mark.timeout(PROCESSES_TIMEOUT_SECONDS)
    def test_the_readmes_command_migrates_serves_and_stops_on_ctrl_c(
        self, database_url: str, redis_url: str, vpai: Sandbox, tmp_path: Path
    ) -> None:
        """From a folder holding the Procfile and a .env (the README's way to configure it),
        with nothing else of the caller's environment: the README's command migrates, serves,
        and Ctrl-C stops every process cleanly, the workers drained, not killed."""
        app = tmp_path / "app"
        app.mkdir()
        (app / "Procfile").write_text((ROOT / "Procfile").read_text())
        port = free_port()
        settings = {
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "VPAI_WEBHOOK_SECRETS": SECRET,
            "VPAI_API_BASE_URL": vpai.server.api_base_url,
            "VPAI_API_KEY": vpai.server.api_key,
            "AUDIO_DIR": str(tmp_path / "audio"),
            "PORT": str(port),
            "WORKER_PROCESSES": "1",
            "WORKER_THREADS": "1",
        }
        (app / ".env").write_text("".join(f"{k}='{v}'\n" for k, v in settings.items()))
        log = tmp_path / "honcho.log"
        honcho = ChildProcess.start(
            ["bash", "-c", readme_procfile_command()],
            name="honcho",
            env={"PATH": f"{ROOT / '.venv' / 'bin'}:{os.environ['PATH']}", "HOME": str(tmp_path)},
            cwd=app,
            log_path=log,
            own_session=True,
            grace_seconds=40,
        )
        try:
            url = f"http://127.0.0.1:{port}"
            honcho.wait_until_ready(readyz(url), timeout=180)
            honcho.wait_until_ready(logged(log, "Worker process is ready"), timeout=180)
            honcho.wait_until_ready(logged(log, "sweeper.started"), timeout=180)
        finally:
            honcho.stop(signum=signal.SIGINT, group=True)  # a terminal's Ctrl-C
        output = log.read_text()
        assert "database at revision" in output, output[-3000:]
        for name in ("web.1", "worker.1", "sweeper.1"):
            assert f"{name} stopped" in output, output[-3000:]
        assert "Application shutdown complete" in output  # uvicorn drained, not killed
        assert "Killing worker process" not in output, output[-3000:]
