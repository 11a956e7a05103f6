"""Uvicorn subprocesses: start one, wait until it answers, measure its CPU, stop it cleanly."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import httpx

from bench import process_stats
from bench.errors import BenchError
from bench.launch import HOST

READY_TIMEOUT_SECONDS = 30.0
STOP_TIMEOUT_SECONDS = 30.0


def free_port() -> int:
    """A TCP port on the loopback that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


class Server:
    """A running uvicorn process serving `factory`."""

    def __init__(self, process: subprocess.Popen[bytes], port: int, log_path: Path) -> None:
        self.process = process
        self.port = port
        self.log_path = log_path

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def cpu_seconds(self) -> float:
        """User + system CPU so far of the server and every process below it (Linux /proc)."""
        return process_stats.cpu_seconds(self.process.pid)


@contextmanager
def running_server(
    factory: str, *, workers: int, env: Mapping[str, str], log_path: Path
) -> Iterator[Server]:
    """Start `factory` under the bench launcher; on exit SIGTERM it and wait for it."""
    port = free_port()
    command = [sys.executable, "-m", "bench.launch", factory, "--port", str(port)]
    command += ["--workers", str(workers)]
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            command, env=dict(env), stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
    server = Server(process, port, log_path)
    try:
        _wait_until_ready(server)
        yield server
    finally:
        _stop(server)


def _wait_until_ready(server: Server) -> None:
    """Any HTTP answer means the lifespan has run and the socket accepts (a 404 will do)."""
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise BenchError(
                f"server exited with {server.process.returncode} before it was ready:\n"
                + _tail(server.log_path)
            )
        try:
            httpx.get(server.base_url + "/", timeout=1.0)
        except httpx.TransportError:
            time.sleep(0.05)
            continue
        return
    raise BenchError(
        f"server not ready after {READY_TIMEOUT_SECONDS:.0f}s:\n{_tail(server.log_path)}"
    )


def _stop(server: Server) -> None:
    process = server.process
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            raise BenchError(
                f"server ignored SIGTERM for {STOP_TIMEOUT_SECONDS:.0f}s and was killed"
            ) from None
    if process.returncode not in (0, -signal.SIGTERM):
        raise BenchError(f"server exited with {process.returncode}:\n{_tail(server.log_path)}")


def _tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"
