"""`voicehook dev` from an empty directory: the whole system, a job carried to audio on disk."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import orjson

from sandbox.voices import DEFAULT_VOICE
from tests.services import free_port, wait_for

SCRUBBED = {"DATABASE_URL", "REDIS_URL", "VPAI_WEBHOOK_SECRETS", "VPAI_API_BASE_URL", "ADMIN_TOKEN"}


def start_dev(
    cwd: Path, port: int, sandbox_port: int, *, own_group: bool = False
) -> subprocess.Popen[bytes]:
    env = {key: value for key, value in os.environ.items() if key not in SCRUBBED}
    log = (cwd / "dev.log").open("ab")
    return subprocess.Popen(
        [sys.executable, "-m", "voicehook", "dev", "--port", str(port),
         "--sandbox-port", str(sandbox_port)],
        cwd=cwd,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=own_group,
    )  # fmt: skip


def scrubbed_env() -> dict[str, str]:
    return {key: value for key, value in os.environ.items() if key not in SCRUBBED}


def ready(url: str) -> bool:
    try:
        return httpx.get(url + "/readyz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def cli(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if key not in SCRUBBED}
    return subprocess.run(
        [sys.executable, "-m", "voicehook", *args],
        cwd=cwd, env=env, capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip


def test_dev_carries_a_job_to_audio_and_keeps_its_data(tmp_path: Path) -> None:
    """Empty folder → dev runs everything; a CLI job reaches audio on disk; a restart keeps it."""
    port, sandbox_port = free_port(), free_port()
    url = f"http://127.0.0.1:{port}"
    dev = start_dev(tmp_path, port, sandbox_port)
    try:
        log = tmp_path / "dev.log"
        wait_for(lambda: "voicehook dev is running" in log.read_text(), timeout=90)
        assert ready(url)  # "running" is said only once the receiver answers /readyz
        assert ". var/dev.env" in log.read_text()
        dev_env = tmp_path / "var" / "dev.env"
        assert dev_env.stat().st_mode & 0o077 == 0  # it holds the dev secrets
        second_terminal = subprocess.run(
            ["bash", "-c", ". var/dev.env && exec python -m voicehook doctor --json"],
            cwd=tmp_path, env={**scrubbed_env(), "PATH": f"{Path(sys.executable).parent}:"
                               + os.environ["PATH"]},
            capture_output=True, text=True, check=False, timeout=60,
        )  # fmt: skip
        assert second_terminal.returncode == 0, second_terminal.stdout + second_terminal.stderr
        assert second_terminal.stderr == ""  # no alembic chatter, no log lines
        assert cli(tmp_path, "customers", "add", "acme", "Acme Ltd").returncode == 0
        submitted = cli(
            tmp_path, "jobs", "submit", "--customer", "acme", "--voice", DEFAULT_VOICE.id,
            "--script", "Hello from dev mode.", "--format", "wav", "--json",
        )  # fmt: skip
        assert submitted.returncode == 0, submitted.stderr
        job_id = orjson.loads(submitted.stdout)["id"]

        def job_ready() -> bool:
            shown = cli(tmp_path, "jobs", "show", job_id, "--json")
            return bool(orjson.loads(shown.stdout)["status"] == "ready")

        wait_for(job_ready, timeout=60, interval=0.5)
        audio = list((tmp_path / "var" / "audio").rglob(f"{job_id}.wav"))
        assert len(audio) == 1
        assert audio[0].read_bytes()[:4] == b"RIFF"
    finally:
        dev.send_signal(signal.SIGINT)
        assert dev.wait(60) == 0, (tmp_path / "dev.log").read_text()[-3000:]

    restarted = start_dev(tmp_path, port, sandbox_port)
    try:
        wait_for(lambda: ready(url), timeout=60)
        shown = orjson.loads(cli(tmp_path, "jobs", "show", job_id, "--json").stdout)
        assert shown["status"] == "ready"
    finally:
        restarted.send_signal(signal.SIGINT)
        assert restarted.wait(60) == 0


def test_demo_runs_jobs_through_a_failure_to_audio(tmp_path: Path) -> None:
    """`dev --demo`: customers and six jobs, some failing once, all ready with a summary."""
    port, sandbox_port = free_port(), free_port()
    env = {key: value for key, value in os.environ.items() if key not in SCRUBBED}
    log = tmp_path / "demo.log"
    demo = subprocess.Popen(
        [sys.executable, "-m", "voicehook", "dev", "--demo", "--port", str(port),
         "--sandbox-port", str(sandbox_port)],
        cwd=tmp_path, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        wait_for(lambda: "keeps running" in log.read_text(), timeout=150, interval=0.5)
    finally:
        demo.send_signal(signal.SIGINT)
        assert demo.wait(60) == 0
    output = log.read_text()
    assert "Summary" in output
    assert "2/3" in output  # at least one job needed its retry
    live_view = output.split("submitted ", 1)[1]
    assert "[info" not in live_view  # no log line interleaved with the live table
    assert "voicehook dev keeps running" in live_view.split("Summary", 1)[1]
    assert len(list((tmp_path / "var" / "audio").rglob("*.wav"))) == 3
    assert len(list((tmp_path / "var" / "audio").rglob("*.mp3"))) == 3


def test_ctrl_c_to_the_whole_group_stops_everything_cleanly(tmp_path: Path) -> None:
    """A terminal's Ctrl-C (SIGINT to every process of the group): the workers drain while
    Redis still answers (each worker process drains once, never "Killing worker process"),
    and dev exits 0 with no connection errors."""
    port, sandbox_port = free_port(), free_port()
    dev = start_dev(tmp_path, port, sandbox_port, own_group=True)
    try:
        wait_for(lambda: ready(f"http://127.0.0.1:{port}"), timeout=60)
        log_path = tmp_path / "dev.log"
        wait_for(lambda: log_path.read_text().count("Worker process is ready") >= 2, timeout=60)
    finally:
        os.killpg(dev.pid, signal.SIGINT)
        code = dev.wait(60)
    log = (tmp_path / "dev.log").read_text()
    assert code == 0, log[-3000:]
    assert "connection error" not in log.lower(), log[-3000:]
    assert "critical" not in log.lower(), log[-3000:]
    assert "Killing worker process" not in log, log[-3000:]
    assert "Stopping worker process" in log, log[-3000:]
