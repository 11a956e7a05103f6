"""`voicehook dev` from an empty directory: the whole system, a job carried to audio on disk.

The test starts the whole system (Redis, the sandbox, the receiver, workers, the sweeper)
twice, and checks everything one start can show before stopping it: a start costs a minute
on a loaded machine. Its deadlines only guard against a hang; a failure prints the tail of
the `dev` log.
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
pytestmark = [pytest.mark.xdist_group("dev"), pytest.mark.timeout(1800)]


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
    cwd: Path,
    port: int,
    sandbox_port: int,
    *,
    own_group: bool = False,
    demo: bool = False,
    log_name: str = "dev.log",
) -> subprocess.Popen[bytes]:
    env = scrubbed_env()
    log = (cwd / log_name).open("ab")
    return subprocess.Popen(
        [sys.executable, "-m", "voicehook", "dev", "--port", str(port),
         "--sandbox-port", str(sandbox_port), *(["--demo"] if demo else [])],
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
    env = scrubbed_env()
    return subprocess.run(
        [sys.executable, "-m", "voicehook", *args],
        cwd=cwd, env=env, capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip


def test_demo_then_a_cli_job_then_ctrl_c_to_a_restart(tmp_path: Path) -> None:
    """Empty folder → `dev --demo` runs everything: customers and six jobs, some failing once,
    all ready with a summary; from a second terminal (`. var/dev.env`) doctor passes and a
    CLI job reaches audio on disk. A restart keeps the data, and a terminal's Ctrl-C to its
    whole group stops everything cleanly (two whole-system starts where three tests took
    four)."""
    port, sandbox_port = free_port(), free_port()
    url = f"http://127.0.0.1:{port}"
    demo = start_dev(tmp_path, port, sandbox_port, demo=True, log_name="demo.log")
    demo_log = log_of(tmp_path / "demo.log")
    try:
        wait_while_running(
            demo,
            lambda: "keeps running" in demo_log(),
            600,
            description="the demo's summary says dev keeps running",
            log=demo_log,
        )
        check_the_demo(tmp_path, demo_log())
        job_id = check_a_second_terminal(tmp_path, demo, url, demo_log)
    finally:
        demo.send_signal(signal.SIGINT)
        assert demo.wait(STOP_SECONDS) == 0, demo_log()[-LOG_TAIL_CHARS:]
    check_ctrl_c_to_a_restart(tmp_path, port, sandbox_port, job_id)


def check_the_demo(cwd: Path, output: str) -> None:
    assert "voicehook dev is running" in output
    assert "Summary" in output
    assert "2/3" in output  # at least one job needed its retry
    live_view = output.split("submitted ", 1)[1]
    assert "[info" not in live_view  # no log line interleaved with the live table
    assert "voicehook dev keeps running" in live_view.split("Summary", 1)[1]
    assert len(list((cwd / "var" / "audio").rglob("*.wav"))) == 3
    assert len(list((cwd / "var" / "audio").rglob("*.mp3"))) == 3


def check_a_second_terminal(
    cwd: Path, dev: subprocess.Popen[bytes], url: str, dev_log: Callable[[], str]
) -> str:
    """doctor and a job from another shell that sourced var/dev.env; the job's id."""
    assert ready(url)  # "running" is said only once the receiver answers /readyz
    assert ". var/dev.env" in dev_log()
    dev_env = cwd / "var" / "dev.env"
    assert dev_env.stat().st_mode & 0o077 == 0  # it holds the dev secrets
    second_terminal = subprocess.run(
        ["bash", "-c", ". var/dev.env && exec python -m voicehook doctor --json"],
        cwd=cwd, env={**scrubbed_env(), "PATH": f"{Path(sys.executable).parent}:"
                      + os.environ["PATH"]},
        capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    assert second_terminal.returncode == 0, second_terminal.stdout + second_terminal.stderr
    assert second_terminal.stderr == ""  # no alembic chatter, no log lines
    assert cli(cwd, "customers", "add", "initech", "Initech").returncode == 0
    submitted = cli(
        cwd, "jobs", "submit", "--customer", "initech", "--voice", DEFAULT_VOICE.id,
        "--script", "Hello from dev mode.", "--format", "wav", "--json",
    )  # fmt: skip
    assert submitted.returncode == 0, submitted.stderr
    job_id = str(orjson.loads(submitted.stdout)["id"])

    def job_ready() -> bool:
        shown = cli(cwd, "jobs", "show", job_id, "--json")
        return bool(orjson.loads(shown.stdout)["status"] == "ready")

    wait_while_running(dev, job_ready, 300, description="the job is ready", log=dev_log)
    audio = list((cwd / "var" / "audio").rglob(f"{job_id}.wav"))
    assert len(audio) == 1
    assert audio[0].read_bytes()[:4] == b"RIFF"
    return job_id


def check_ctrl_c_to_a_restart(cwd: Path, port: int, sandbox_port: int, job_id: str) -> None:
    """The restart shows the job still ready. A terminal's Ctrl-C (SIGINT to every process
    of the group): the workers drain while Redis still answers (each worker process drains
    once, never "Killing worker process"), and dev exits 0 with no connection errors."""
    restarted = start_dev(cwd, port, sandbox_port, own_group=True, log_name="restart.log")
    dev_log = log_of(cwd / "restart.log")
    try:
        wait_while_running(
            restarted,
            lambda: ready(f"http://127.0.0.1:{port}"),
            START_SECONDS,
            description="dev is ready",
            log=dev_log,
        )
        shown = orjson.loads(cli(cwd, "jobs", "show", job_id, "--json").stdout)
        assert shown["status"] == "ready"
        wait_while_running(
            restarted,
            lambda: dev_log().count("Worker process is ready") >= 2,
            START_SECONDS,
            description="both worker processes are ready",
            log=dev_log,
        )
    finally:
        os.killpg(restarted.pid, signal.SIGINT)
        code = restarted.wait(STOP_SECONDS)
    log = dev_log()
    assert code == 0, log[-3000:]
    assert "connection error" not in log.lower(), log[-3000:]
    assert "critical" not in log.lower(), log[-3000:]
    assert "Killing worker process" not in log, log[-3000:]
    assert "Stopping worker process" in log, log[-3000:]
