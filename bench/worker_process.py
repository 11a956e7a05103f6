"""`voicehook worker` as a subprocess in a session of its own, and its Dramatiq processes."""

from __future__ import annotations

import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from bench import process_stats
from bench.servers import stop_checked
from config.queues import EVENTS_QUEUE
from voicehook.child_process import ChildProcess

STOP_TIMEOUT_SECONDS = 40.0  # the worker gives in-flight messages 20 s, then requeues them


@contextmanager
def running_worker(env: Mapping[str, str], log_path: Path) -> Iterator[ChildProcess]:
    """Start `voicehook worker`; on exit SIGTERM it, and kill its session if it lingers."""
    child = ChildProcess.start(
        [sys.executable, "-m", "voicehook", "worker"],
        name="the worker",
        env=env,
        log_path=log_path,
        own_session=True,  # killed, its Dramatiq processes go with it
        grace_seconds=STOP_TIMEOUT_SECONDS,
    )
    try:
        yield child
    finally:
        stop_checked(child)


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
