"""Runs a set of child processes together; when one dies or we are told to stop, stops all."""

from __future__ import annotations

import os
import signal
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import FrameType

from voicehook.child_process import ChildProcess


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
        self._running[child.name] = ChildProcess.start(child.argv, name=child.name, env=self._env)

    def wait(self) -> int:
        """Block until a child exits or SIGINT/SIGTERM arrives; then stop the rest."""

        def _request_stop(signum: int, _: FrameType | None) -> None:
            self._stopping = True

        signal.signal(signal.SIGINT, _request_stop)
        signal.signal(signal.SIGTERM, _request_stop)
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
        for process in self._running.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + self._grace
        for process in self._running.values():
            if process.wait(max(0.1, deadline - time.monotonic())) is None:
                process.kill()


def python_module(module: str, *args: str) -> list[str]:
    return [sys.executable, "-m", module, *args]


def inherit_env(**overrides: str) -> dict[str, str]:
    return {**os.environ, **overrides}
