"""Runs a set of child processes together; when one dies or we are told to stop, stops all.

Each child runs in a session of its own, and is stopped as a whole: SIGTERM to every process
of its session, a grace period for all of them, then SIGKILL to whatever is left. A Dramatiq
master's worker processes are its children, not ours; signalling the master alone, then
killing it, left them running as orphans. Its own session also keeps a terminal's Ctrl-C
(which reaches our process group) from reaching the children besides our own stop, so each
is told once, by us, in order.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import FrameType

from voicehook.child_process import ChildProcess

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


@dataclass(frozen=True)
class Child:
    name: str
    argv: Sequence[str]


class Supervisor:
    """Start children with a shared environment, wait, and shut them all down cleanly."""

    def __init__(self, env: Mapping[str, str], grace_seconds: float = 20.0) -> None:
        self._env = dict(env)
        self._grace = grace_seconds
        self._running: dict[str, ChildProcess] = {}
        self._stopping = False

    def start(self, child: Child) -> None:
        """Start `child`. From the first one until `wait()` takes over, a stop signal raises
        KeyboardInterrupt, as Ctrl-C does, so the caller's `stop()` reaches every child."""
        if not self._running:
            for signum in STOP_SIGNALS:
                signal.signal(signum, signal.default_int_handler)
        self._running[child.name] = ChildProcess.start(
            child.argv, name=child.name, env=self._env, own_session=True
        )

    def wait(self) -> int:
        """Block until a child exits or SIGINT/SIGTERM/SIGHUP arrives; then stop the rest."""

        def _request_stop(signum: int, _: FrameType | None) -> None:
            self._stopping = True

        # The children are out of reach of the terminal, so its hang-up is ours to pass on.
        for signum in STOP_SIGNALS:
            signal.signal(signum, _request_stop)
        exited: tuple[str, int] | None = None
        while not self._stopping and exited is None:
            for name, process in self._running.items():
                code = process.poll()
                if code is not None:
                    exited = (name, code)
                    break
            time.sleep(0.2)
        if exited is not None:
            print(f"voicehook: {exited[0]} exited with {exited[1]}; stopping", file=sys.stderr)
        self.stop()
        return 0 if exited is None else exited[1] or 1

    def stop(self) -> None:
        """SIGTERM to every process of every child's session, one grace period for them all,
        then SIGKILL to each session that still has a process running."""
        stopping = [process for process in self._running.values() if process.running(group=True)]
        for process in stopping:
            process.send_signal(signal.SIGTERM, group=True)
        deadline = time.monotonic() + self._grace
        for process in stopping:
            if not process.wait_exited(max(0.1, deadline - time.monotonic()), group=True):
                process.kill()


def python_module(module: str, *args: str) -> list[str]:
    return [sys.executable, "-m", module, *args]


def inherit_env(**overrides: str) -> dict[str, str]:
    return {**os.environ, **overrides}
