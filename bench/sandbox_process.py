"""The sandbox in a process of its own (`voicehook sandbox`), so that its event loop and the
bench's threads never share a GIL: the webhook timestamps it logs stay the sender's."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from bench.errors import BenchError
from bench.launch import HOST
from bench.servers import free_port

READY_TIMEOUT_SECONDS = 30.0
STOP_TIMEOUT_SECONDS = 15.0
CONTROL_TIMEOUT_SECONDS = 60.0  # a 200 MB generation is rendered inside the request


@dataclass(frozen=True, slots=True)
class SandboxOptions:
    rate_limit: int
    rate_window_seconds: float
    seed: int = 1
    # The phases' durations (queued, running, enhancing), as a real provider's would vary.
    phase_seconds: tuple[float, float, float] = (0.1, 0.3, 0.1)


class SandboxProcess:
    """A running `voicehook sandbox`: its URLs and a client for its control API."""

    def __init__(self, url: str, api_key: str, control: httpx.Client, pid: int) -> None:
        self.url = url
        self.pid = pid
        self.api_key = api_key
        self.control = control

    @property
    def api_base_url(self) -> str:
        return self.url + "/v1"

    def call(self, method: str, path: str, body: Mapping[str, Any] | None = None) -> Any:
        """A control API call (`path` under /sandbox); its JSON answer."""
        response = self.control.request(method, path, json=body)
        if response.status_code >= 400:
            raise BenchError(f"sandbox {method} {path}: {response.status_code} {response.text}")
        return response.json() if response.content else None


@contextmanager
def running_sandbox(
    options: SandboxOptions, *, workdir: Path, env: Mapping[str, str]
) -> Iterator[SandboxProcess]:
    port = free_port()
    queued, running, enhancing = options.phase_seconds
    command = [
        *(sys.executable, "-m", "voicehook", "sandbox", "--host", HOST, "--port", str(port)),
        *("--seed", str(options.seed), "--rate-limit", str(options.rate_limit)),
        *("--rate-window", str(options.rate_window_seconds)),
        *("--data-dir", str(workdir / "sandbox-data"), "--log-level", "warning"),
    ]
    sandbox_env = {
        **env,
        "SANDBOX_SPEECH": "tone",
        "SANDBOX_QUEUED_SECONDS": str(queued),
        "SANDBOX_RUNNING_SECONDS": str(running),
        "SANDBOX_ENHANCING_SECONDS": str(enhancing),
    }
    log_path = workdir / "sandbox.log"
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            command,
            env=sandbox_env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    url = f"http://{HOST}:{port}"
    control = httpx.Client(
        base_url=url + "/sandbox", timeout=CONTROL_TIMEOUT_SECONDS, trust_env=False
    )
    try:
        overview = _wait_until_ready(control, process, log_path)
        yield SandboxProcess(url, str(overview["apiKey"]), control, process.pid)
    finally:
        control.close()
        _stop(process)


def _wait_until_ready(
    control: httpx.Client, process: subprocess.Popen[bytes], log_path: Path
) -> dict[str, Any]:
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise BenchError(
                f"the sandbox exited with {process.returncode}:\n"
                + log_path.read_text(errors="replace")
            )
        try:
            response = control.get("/")
        except httpx.TransportError:
            time.sleep(0.05)
            continue
        if response.status_code == 200:
            overview: dict[str, Any] = response.json()
            return overview
        time.sleep(0.05)
    raise BenchError(f"the sandbox did not answer within {READY_TIMEOUT_SECONDS:.0f}s")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(STOP_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
