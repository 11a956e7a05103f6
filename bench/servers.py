"""Uvicorn subprocesses: start one, wait until it answers, measure its CPU, stop it cleanly."""

from __future__ import annotations

import signal
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import httpx

from bench import process_stats
from bench.errors import BenchError
from bench.launch import HOST
from voicehook.child_process import ChildProcess, free_port
from voicehook.errors import ChildProcessFailed

# Only a hang guard: a loaded 2-core machine took over 30 s to start a receiver.
READY_TIMEOUT_SECONDS = 120.0
STOP_TIMEOUT_SECONDS = 30.0


class Server:
    """A running uvicorn process serving `factory`."""

    def __init__(self, child: ChildProcess, port: int) -> None:
        self.child = child
        self.port = port

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def pid(self) -> int:
        return self.child.pid

    def cpu_seconds(self) -> float:
        """User + system CPU so far of the server and every process below it (Linux /proc)."""
        return process_stats.cpu_seconds(self.child.pid)


@contextmanager
def running_server(
    factory: str, *, workers: int, env: Mapping[str, str], log_path: Path
) -> Iterator[Server]:
    """Start `factory` under the bench launcher; on exit SIGTERM it and wait for it."""
    port = free_port(HOST)
    command = [sys.executable, "-m", "bench.launch", factory, "--port", str(port)]
    command += ["--workers", str(workers)]
    child = ChildProcess.start(
        command, name="server", env=env, log_path=log_path, grace_seconds=STOP_TIMEOUT_SECONDS
    )
    server = Server(child, port)
    # Any HTTP answer means the lifespan has run and the socket accepts (a 404 will do).
    wait_until_ready(child, lambda: _answers(server.base_url), READY_TIMEOUT_SECONDS)
    try:
        yield server
    finally:
        stop_checked(child, expected=(0, -signal.SIGTERM))


def wait_until_ready(child: ChildProcess, ready: Callable[[], bool], timeout: float) -> None:
    """`child.wait_until_ready`, failing as a bench error (which carries the log's tail)."""
    try:
        child.wait_until_ready(ready, timeout=timeout)
    except ChildProcessFailed as exc:
        raise BenchError(str(exc)) from exc


def stop_checked(child: ChildProcess, *, expected: tuple[int, ...] | None = None) -> None:
    """Stop it; a bench error if it had to be killed, or (given `expected`) exited otherwise:
    either would put the run's figures in doubt."""
    code = child.stop()
    if child.killed:
        raise BenchError(
            f"{child.name} ignored SIGTERM for {child.grace_seconds:.0f}s and was killed"
        )
    if expected is not None and code not in expected:
        raise BenchError(f"{child.name} exited with {code}:\n{child.log_tail()}")


def _answers(url: str) -> bool:
    try:
        httpx.get(url + "/", timeout=1.0)
    except httpx.TransportError:
        return False
    return True
