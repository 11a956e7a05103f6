"""`voicehook worker` as a subprocess in a session of its own, and its Dramatiq processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from bench import process_stats
from bench.errors import BenchError
from config.queues import EVENTS_QUEUE

STOP_TIMEOUT_SECONDS = 40.0  # the worker gives in-flight messages 20 s, then requeues them


@contextmanager
def running_worker(env: Mapping[str, str], log_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    """Start `voicehook worker`; on exit SIGTERM it, and kill its session if it lingers."""
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "voicehook", "worker"],
            env=dict(env),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    try:
        yield process
    finally:
        _stop(process)


def event_worker_pids(worker_pid: int) -> list[int]:
    """The processes that run `process_event` (downloads happen there): the children of the
    Dramatiq process consuming the events queue."""
    for pid in process_stats.descendants(worker_pid):
        if is_events_dramatiq(process_stats.command_line(pid)):
            return process_stats.children(pid)
    return []


def is_events_dramatiq(argv: list[str]) -> bool:
    """Whether `argv` is the Dramatiq CLI consuming the events queue."""
    if "dramatiq" not in argv or "--queues" not in argv:
        return False
    queues = argv[argv.index("--queues") + 1 :]
    return bool(queues) and queues[0] == EVENTS_QUEUE


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)  # our own session: the worker's children
            process.wait()
            raise BenchError("the worker ignored SIGTERM and was killed") from None
