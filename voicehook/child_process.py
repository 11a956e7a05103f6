"""One child process: started with its environment, directory and log file, waited on until a
predicate says it is ready, stopped with a signal and a grace period, then SIGKILL — with
`group`, the child and every process of its session, so none of its own children outlives it.

Every launcher of ours stands on it: the supervisor of `dev` and `worker`, the private
redis-servers, the benches' servers and workers, the tests' receivers. So a child that does
not come up says why the same way everywhere, with the tail of its log.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import IO

from voicehook.errors import ChildProcessFailed, NoSessionToSignal

LOOPBACK = "127.0.0.1"
DISCARD = Path(os.devnull)  # as `log_path`: the child's output goes nowhere
GRACE_SECONDS = 10.0
POLL_SECONDS = 0.05
LOG_TAIL_LINES = 20
PROC = Path("/proc")
# SIGKILL cannot be ignored, but a loaded machine may take a while to run the killed process
# to its end; past this, kill() returns anyway (one stuck in the kernel is beyond us).
KILLED_EXIT_SECONDS = 30.0


def children(pid: int) -> list[int]:
    """The processes `pid` started that still have it as their parent ([] without /proc)."""
    found: list[int] = []
    for task in (PROC / str(pid) / "task").glob("*/children"):
        try:
            found.extend(int(child) for child in task.read_text().split())
        except OSError:
            continue
    return found


def descendants(pid: int) -> list[int]:
    """Every process below `pid`, parents before their children, whatever their session."""
    found: list[int] = []
    for child in children(pid):
        found.append(child)
        found.extend(descendants(child))
    return found


def runs(pid: int) -> bool:
    """Whether process `pid` exists and has not exited (a zombie has)."""
    try:
        stat = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def group_runs(pgid: int) -> bool:
    """Whether any process of process group `pgid` still runs. Zombies do not count: an orphan
    that has exited waits for init to reap it, which can take a second or two."""
    if not PROC.is_dir():  # no /proc (macOS): any member, zombie or not
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return False
        return True
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # exited while we looked
            continue
        # After the command's closing parenthesis: state, parent pid, process group, ...
        state, _parent, group = stat.rsplit(")", 1)[1].split()[:3]
        if int(group) == pgid and state != "Z":
            return True
    return False


def free_port(host: str = LOOPBACK) -> int:
    """A TCP port on `host` that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


class ChildProcess:
    """A started child. `start()` makes one; `stop()` ends it, and so does leaving a `with`."""

    def __init__(
        self,
        process: subprocess.Popen[bytes],
        *,
        name: str,
        log_path: Path | None,
        own_session: bool,
        grace_seconds: float,
    ) -> None:
        self.process = process
        self.name = name
        self.log_path = log_path
        self.own_session = own_session
        self.grace_seconds = grace_seconds
        self.killed = False  # whether it had to be SIGKILLed

    @classmethod
    def start(
        cls,
        argv: Sequence[str],
        *,
        name: str,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        log_path: Path | None = None,
        own_session: bool = False,
        grace_seconds: float = GRACE_SECONDS,
    ) -> ChildProcess:
        """Start `argv` with `env` (default: ours) in `cwd`, its stdout and stderr appended to
        `log_path` (None: ours; DISCARD: nowhere), and stdin closed. `own_session` puts it in
        a session of its own, out of reach of a terminal's Ctrl-C to our process group."""

        def spawn(output: IO[bytes] | None) -> subprocess.Popen[bytes]:
            return subprocess.Popen(
                list(argv),
                env=None if env is None else dict(env),
                cwd=cwd,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=None if output is None else subprocess.STDOUT,
                start_new_session=own_session,
            )

        if log_path is None:
            process = spawn(None)
        else:
            with log_path.open("ab") as log:  # the child keeps its own copy of the descriptor
                process = spawn(log)
        return cls(
            process,
            name=name,
            log_path=log_path,
            own_session=own_session,
            grace_seconds=grace_seconds,
        )

    @property
    def pid(self) -> int:
        return self.process.pid

    def poll(self) -> int | None:
        """Its exit code, or None while it runs."""
        return self.process.poll()

    def wait_until_ready(
        self, ready: Callable[[], bool], *, timeout: float, interval: float = POLL_SECONDS
    ) -> None:
        """Return once `ready()` is true. If it exits first or the time runs out (or the wait
        is interrupted), it is stopped and ChildProcessFailed says why, with its log's tail."""
        deadline = time.monotonic() + timeout
        try:
            while True:
                code = self.poll()
                if code is not None:
                    raise ChildProcessFailed(
                        f"{self.name} exited with {code} before it was ready{self._tail()}"
                    )
                if ready():
                    return
                if time.monotonic() >= deadline:
                    raise ChildProcessFailed(
                        f"{self.name} not ready after {timeout:g}s{self._tail()}"
                    )
                time.sleep(interval)
        except BaseException:
            self.stop()
            raise

    def send_signal(self, signum: int, *, group: bool = False) -> None:
        """Signal it, or with `group` every process of its session (started with
        `own_session`; ours is not its to signal)."""
        if not group:
            self.process.send_signal(signum)
            return
        if not self.own_session:
            raise NoSessionToSignal(f"{self.name} has no session of its own to signal")
        with contextlib.suppress(ProcessLookupError):  # the whole session has exited
            os.killpg(self.process.pid, signum)

    def wait(self, timeout: float | None = None) -> int | None:
        """Its exit code once it exits, or None if it still runs after `timeout` seconds."""
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def running(self, *, group: bool = False) -> bool:
        """Whether it runs, or with `group` any process of its session (its own children left
        behind when it exited included)."""
        if self.poll() is None:
            return True
        return group and self.own_session and group_runs(self.process.pid)

    def wait_exited(self, timeout: float, *, group: bool = False) -> bool:
        """Wait up to `timeout` seconds for it (with `group`: every process of its session) to
        exit; whether it did."""
        deadline = time.monotonic() + timeout
        if self.wait(timeout) is None:
            return False
        while self.running(group=group):
            if time.monotonic() >= deadline:
                return False
            time.sleep(POLL_SECONDS)
        return True

    def stop(
        self, grace: float | None = None, *, signum: int = signal.SIGTERM, group: bool = False
    ) -> int:
        """Send `signum` (with `group`: to every process of its session), give it `grace`
        seconds (default: its own) to exit — with `group`, all of them — then kill what is
        left; its exit code. A child that has exited is only reaped, unless with `group`
        processes of its session still run: those are stopped the same way."""
        if self.running(group=group):
            self.send_signal(signum, group=group)
            if not self.wait_exited(self.grace_seconds if grace is None else grace, group=group):
                return self.kill()
        return self.process.wait()

    def kill(self) -> int:
        """SIGKILL it, and when it has a session of its own all of that session and every
        process descended from it (a supervisor's children in sessions of their own among
        them); its exit code (its own, if it had exited and only others were left)."""
        self.killed = True
        if self.own_session:
            below = descendants(self.process.pid)  # before the kill makes orphans of them
            self.send_signal(signal.SIGKILL, group=True)
            for pid in below:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            code = self.process.wait()
            # Return once they are gone, so that what comes next (dev stopping its Redis)
            # never races a process still on its way out.
            deadline = time.monotonic() + KILLED_EXIT_SECONDS
            while group_runs(self.process.pid) or any(runs(pid) for pid in below):
                if time.monotonic() >= deadline:
                    break
                time.sleep(POLL_SECONDS)
            return code
        if self.poll() is None:
            self.process.kill()
        return self.process.wait()

    def log_text(self) -> str:
        """Its log so far; "" when its output goes elsewhere."""
        if self.log_path is None:
            return ""
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def log_tail(self, lines: int = LOG_TAIL_LINES) -> str:
        """The last `lines` lines of its log, for failure messages."""
        return "\n".join(self.log_text().splitlines()[-lines:])

    def __enter__(self) -> ChildProcess:
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    def _tail(self) -> str:
        tail = self.log_tail()
        return f":\n{tail}" if tail else ""
