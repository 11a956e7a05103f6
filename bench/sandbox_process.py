"""The sandbox in a process of its own (`voicehook sandbox`), so that its event loop and the
bench's threads never share a GIL: the webhook timestamps it logs stay the sender's."""

from __future__ import annotations

import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from bench.errors import BenchError
from bench.launch import HOST
from bench.servers import wait_until_ready
from voicehook.child_process import ChildProcess, free_port

# Only a hang guard: a loaded 2-core machine took over 30 s to start a receiver.
READY_TIMEOUT_SECONDS = 120.0
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
    port = free_port(HOST)
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
    url = f"http://{HOST}:{port}"
    with httpx.Client(
        base_url=url + "/sandbox", timeout=CONTROL_TIMEOUT_SECONDS, trust_env=False
    ) as control:
        child = ChildProcess.start(
            command,
            name="the sandbox",
            env=sandbox_env,
            log_path=workdir / "sandbox.log",
            grace_seconds=STOP_TIMEOUT_SECONDS,
        )
        with child:
            wait_until_ready(child, lambda: _answers(control), READY_TIMEOUT_SECONDS)
            overview = control.get("/").json()
            yield SandboxProcess(url, str(overview["apiKey"]), control, child.pid)


def _answers(control: httpx.Client) -> bool:
    try:
        return control.get("/").status_code == 200
    except httpx.TransportError:
        return False
