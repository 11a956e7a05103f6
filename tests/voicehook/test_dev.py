"""`voicehook dev` from an empty directory: the whole system, a job carried to audio on disk.

Each test starts the whole system (Redis, the sandbox, the receiver, workers, the sweeper),
so they share one xdist worker rather than the machine all at once. Their deadlines only
guard against a hang: under load, starting everything can take a minute; a failure prints
the tail of the `dev` log.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import httpx
import orjson
import pytest

from sandbox.voices import DEFAULT_VOICE
from tests.services import LOG_TAIL_CHARS, free_port, wait_for

SCRUBBED = {"DATABASE_URL", "REDIS_URL", "VPAI_WEBHOOK_SECRETS", "VPAI_API_BASE_URL", "ADMIN_TOKEN"}
START_SECONDS = 240  # for everything to answer /readyz
STOP_SECONDS = 120
pytestmark = [pytest.mark.xdist_group("dev"), pytest.mark.timeout(900)]


def log_of(path: Path) -> Callable[[], str]:
    return lambda: path.read_text(errors="replace") if path.exists() else "(no log yet)"


def wait_while_running(
    process: subprocess.Popen[bytes],
    condition: Callable[[], bool],
    seconds: float,
    *,
    description: str,
    log: Callable[[], str],
) -> None:
    """Wait for `condition`, failing at once (with the log) if `process` exits first."""
    wait_for(
        lambda: condition() or process.poll() is not None,
        seconds,
        description=description,
        log=log,
    )
    if not condition():
        tail = log()[-LOG_TAIL_CHARS:]
        raise AssertionError(f"exited ({process.returncode}) before {description}:\n{tail}")


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


def ready(url: str) -> bool:
    try:
        return httpx.get(url + "/readyz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def cli(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if key not in SCRUBBED}
    return subprocess.run(
        [sys.executable, "-m", "voicehook", *args],
        cwd=cwd, env=env, capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip


def test_dev_carries_a_job_to_audio_and_keeps_its_data(tmp_path: Path) -> None:
    """Empty folder → dev runs everything; a CLI job reaches audio on disk; a restart keeps it."""
    port, sandbox_port = free_port(), free_port()
    url = f"http://127.0.0.1:{port}"
    dev = start_dev(tmp_path, port, sandbox_port)
    dev_log = log_of(tmp_path / "dev.log")
    try:
        wait_while_running(
            dev, lambda: ready(url), START_SECONDS, description="dev is ready", log=dev_log
        )
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

        wait_while_running(dev, job_ready, 300, description="the job is ready", log=dev_log)
        audio = list((tmp_path / "var" / "audio").rglob(f"{job_id}.wav"))
        assert len(audio) == 1
        assert audio[0].read_bytes()[:4] == b"RIFF"
    finally:
        dev.send_signal(signal.SIGINT)
        assert dev.wait(STOP_SECONDS) == 0, dev_log()[-LOG_TAIL_CHARS:]

    restarted = start_dev(tmp_path, port, sandbox_port)
    try:
        wait_while_running(
            restarted, lambda: ready(url), START_SECONDS, description="dev is ready", log=dev_log
        )
        shown = orjson.loads(cli(tmp_path, "jobs", "show", job_id, "--json").stdout)
        assert shown["status"] == "ready"
    finally:
        restarted.send_signal(signal.SIGINT)
        assert restarted.wait(STOP_SECONDS) == 0, dev_log()[-LOG_TAIL_CHARS:]


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
    demo_log = log_of(log)
    try:
        wait_while_running(
            demo,
            lambda: "every job is ready" in demo_log(),
            600,
            description="the demo says every job is ready",
            log=demo_log,
        )
    finally:
        demo.send_signal(signal.SIGINT)
        assert demo.wait(STOP_SECONDS) == 0, demo_log()[-LOG_TAIL_CHARS:]
    output = log.read_text()
    assert "Summary" in output
    assert "2/3" in output  # at least one job needed its retry
    assert len(list((tmp_path / "var" / "audio").rglob("*.wav"))) == 3
    assert len(list((tmp_path / "var" / "audio").rglob("*.mp3"))) == 3


def test_ctrl_c_to_the_whole_group_stops_everything_cleanly(tmp_path: Path) -> None:
    """A terminal's Ctrl-C (SIGINT to every process of the group): the workers drain while
    Redis still answers, and dev exits 0 with no connection errors."""
    port, sandbox_port = free_port(), free_port()
    dev = start_dev(tmp_path, port, sandbox_port, own_group=True)
    dev_log = log_of(tmp_path / "dev.log")
    try:
        wait_while_running(
            dev,
            lambda: ready(f"http://127.0.0.1:{port}"),
            START_SECONDS,
            description="dev is ready",
            log=dev_log,
        )
    finally:
        os.killpg(dev.pid, signal.SIGINT)
        code = dev.wait(STOP_SECONDS)
    log = (tmp_path / "dev.log").read_text()
    assert code == 0, log[-3000:]
    assert "connection error" not in log.lower(), log[-3000:]
    assert "critical" not in log.lower(), log[-3000:]
