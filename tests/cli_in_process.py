"""The `voicehook` CLI run in this process (click's runner): the same code as the console
script without an interpreter's start-up, for every test whose point is not the process.

`run_cli` runs a command that returns by itself. `run_until_stopped` runs one that serves
until a stop signal (`sandbox`, `web`, `sweeper`): the command in the main thread, where
Python delivers signals, while a driver checks it from a thread and then stops it with
SIGTERM, as a process manager would.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import FrameType

import structlog
from typer.testing import CliRunner

from tests.waiting import LOG_TAIL_CHARS
from voicehook.cli import app

STOP_RESEND_SECONDS = 1.0  # a stop sent before the command listened for it is sent again
HANDLED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


@dataclass(frozen=True)
class Ran:
    """What a command did, shaped like subprocess.CompletedProcess."""

    returncode: int
    stdout: str
    stderr: str
    stdout_bytes: bytes = b""


@contextmanager
def _logging_on_stderr() -> Iterator[None]:
    # A receiver served on a thread of this process logs meanwhile: onto the test's stderr,
    # not into the command's stdout. The command may configure logging onto the runner's
    # streams, which close after it: the configuration before it comes back.
    before = structlog.get_config()
    structlog.configure(logger_factory=structlog.PrintLoggerFactory(sys.stderr))
    try:
        yield
    finally:
        structlog.configure(**before)


def _invoke(args: tuple[str, ...], env: dict[str, str]) -> Ran:
    with _logging_on_stderr():
        result = CliRunner().invoke(app, list(args), env=env, catch_exceptions=False)
    return Ran(result.exit_code, result.stdout, result.stderr, result.stdout_bytes)


def run_cli(*args: str, env: dict[str, str]) -> Ran:
    """`voicehook ARGS` in this process, with `env` set for it."""
    return _invoke(args, env)


def _ignore(_signum: int, _frame: FrameType | None) -> None:
    """Stand-in for the default action of a stop signal: uvicorn raises the signal it shut
    down for again once its own handler is gone, which would end the test process."""


def run_until_stopped(*args: str, env: dict[str, str], driver: Callable[[], None]) -> Ran:
    """`voicehook ARGS` in this process until `driver` (run on a thread) has returned or
    failed; then SIGTERM, repeated until the command returns. The driver's failure, if any,
    is raised once the command has stopped; the signal handlers before come back."""
    if threading.current_thread() is not threading.main_thread():
        raise RuntimeError("run_until_stopped needs the main thread: signals arrive there")
    before = {signum: signal.getsignal(signum) for signum in HANDLED}
    failures: list[BaseException] = []
    returned = threading.Event()

    def drive() -> None:
        try:
            driver()
        except BaseException as exc:
            failures.append(exc)
        while not returned.is_set():
            os.kill(os.getpid(), signal.SIGTERM)
            returned.wait(STOP_RESEND_SECONDS)

    for signum in HANDLED:
        signal.signal(signum, _ignore)
    thread = threading.Thread(target=drive, name="driver", daemon=True)
    thread.start()
    try:
        ran = _invoke(args, env)
    finally:
        returned.set()
        thread.join()
        for signum, handler in before.items():
            signal.signal(signum, handler)
    if failures:
        output = f"{ran.stdout}{ran.stderr}"[-LOG_TAIL_CHARS:]
        raise AssertionError(
            f"{failures[0]}\n`voicehook {' '.join(args)}` exited {ran.returncode}:\n{output}"
        ) from failures[0]
    return ran
