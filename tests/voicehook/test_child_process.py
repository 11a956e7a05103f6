"""The one child-process helper: start, wait until ready, stop, kill, and the log's tail."""

from __future__ import annotations

import os
import signal
import socket
import sys
from pathlib import Path

import pytest

from tests.services import wait_for
from voicehook.child_process import (
    DISCARD,
    GRACE_SECONDS,
    ChildProcess,
    free_port,
)
from voicehook.errors import ChildProcessFailed, NoSessionToSignal

IGNORES_SIGTERM = (
    "import signal, time\n"
    "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
    "print('up', flush=True)\n"
    "time.sleep(600)\n"
)


# SIGINT stops both, whatever they inherited: a shell's background job starts with SIGINT
# ignored, and Python then installs no KeyboardInterrupt handler of its own. The grandchild
# inherits the default action (which a signal keeps across exec); the child raises
# KeyboardInterrupt from then on.
STARTS_A_GRANDCHILD = (
    "import signal, subprocess, sys, time\n"
    "signal.signal(signal.SIGINT, signal.SIG_DFL)\n"
    "grandchild = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)'])\n"
    "signal.signal(signal.SIGINT, signal.default_int_handler)\n"
    "print(grandchild.pid, flush=True)\n"
    "time.sleep(600)\n"
)


def python(
    code: str,
    log: Path,
    *,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    own_session: bool = False,
    grace_seconds: float = GRACE_SECONDS,
) -> ChildProcess:
    return ChildProcess.start(
        [sys.executable, "-c", code],
        name="child",
        env=env,
        cwd=cwd,
        log_path=log,
        own_session=own_session,
        grace_seconds=grace_seconds,
    )


def logged(log: Path, text: str) -> bool:
    return text in log.read_text()


def gone(pid: int) -> bool:
    """Exited and reaped, or a zombie waiting for a parent that is not us."""
    try:
        return "\nState:\tZ" in Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return True


class TestStart:
    def test_runs_with_its_env_and_cwd_and_logs_to_its_file(self, tmp_path: Path) -> None:
        """The child sees the environment and directory it was given; its stdout and stderr
        are appended to the log file."""
        log = tmp_path / "child.log"
        log.write_text("earlier run\n")
        code = (
            "import os, sys\n"
            "print(os.environ['CHILD_SETTING'], os.getcwd())\n"
            "print('to stderr', file=sys.stderr)\n"
        )
        env = {**os.environ, "CHILD_SETTING": "given"}
        child = python(code, log, env=env, cwd=tmp_path)
        assert child.wait(60) == 0
        lines = child.log_text().splitlines()
        assert lines[0] == "earlier run"
        assert f"given {tmp_path}" in lines
        assert "to stderr" in lines

    def test_discarded_output_leaves_no_log(self, tmp_path: Path) -> None:
        """With DISCARD the output goes nowhere, and the tail is empty."""
        child = ChildProcess.start(
            [sys.executable, "-c", "print('lost')"], name="child", log_path=DISCARD
        )
        assert child.wait(60) == 0
        assert child.log_tail() == ""


class TestWaitUntilReady:
    def test_returns_once_the_predicate_holds(self, tmp_path: Path) -> None:
        """Ready when its log says so; it keeps running."""
        log = tmp_path / "child.log"
        with python(IGNORES_SIGTERM, log, grace_seconds=0.1) as child:
            child.wait_until_ready(lambda: logged(log, "up"), timeout=60)
            assert child.poll() is None

    def test_an_exit_before_ready_is_an_error_with_the_log_tail(self, tmp_path: Path) -> None:
        """It names the child and its exit code, and quotes the last lines of its log only."""
        code = "import sys\nfor n in range(30): print(f'line {n}')\nsys.exit(3)\n"
        child = python(code, tmp_path / "child.log")
        with pytest.raises(ChildProcessFailed) as raised:
            child.wait_until_ready(lambda: False, timeout=60)
        message = str(raised.value)
        assert message.startswith("child exited with 3 before it was ready:\n")
        assert message.endswith("\nline 29")
        assert "line 10\n" in message
        assert "line 9\n" not in message  # 20 lines of tail: 10 to 29

    def test_not_ready_in_time_is_an_error_and_the_child_is_stopped(self, tmp_path: Path) -> None:
        """Past the timeout the error says so, and no child is left running."""
        log = tmp_path / "child.log"
        child = python(IGNORES_SIGTERM, log, grace_seconds=0.1)
        wait_for(lambda: logged(log, "up"), timeout=60)
        with pytest.raises(ChildProcessFailed, match=r"(?s)child not ready after 0\.2s:\nup"):
            child.wait_until_ready(lambda: False, timeout=0.2)
        assert child.poll() is not None
        assert child.killed


class TestStop:
    def test_sigterm_within_the_grace_period(self, tmp_path: Path) -> None:
        """A child that exits on SIGTERM is not killed; its exit code is the signal's."""
        log = tmp_path / "child.log"
        child = python("import time\nprint('up', flush=True)\ntime.sleep(600)\n", log)
        wait_for(lambda: logged(log, "up"), timeout=60)
        assert child.stop(grace=60) == -signal.SIGTERM
        assert not child.killed

    def test_sigkill_after_the_grace_period(self, tmp_path: Path) -> None:
        """A child that ignores SIGTERM is killed once its grace period is over."""
        log = tmp_path / "child.log"
        child = python(IGNORES_SIGTERM, log, grace_seconds=0.2)
        wait_for(lambda: logged(log, "up"), timeout=60)
        assert child.stop() == -signal.SIGKILL
        assert child.killed

    def test_an_exited_child_is_only_reaped(self, tmp_path: Path) -> None:
        """Stopping a child that has exited gives its code, and kills nothing."""
        child = python("import sys\nsys.exit(4)\n", tmp_path / "child.log")
        assert child.wait(60) == 4
        assert child.stop() == 4
        assert not child.killed

    def test_another_signal_to_its_whole_session(self, tmp_path: Path) -> None:
        """With `group`, the signal reaches the child's own children too."""
        log = tmp_path / "child.log"
        child = python(STARTS_A_GRANDCHILD, log, own_session=True)
        wait_for(lambda: log.read_text().strip().isdigit(), timeout=60)
        grandchild = int(log.read_text())
        assert os.getpgid(child.pid) == child.pid != os.getpgid(0)
        assert child.stop(grace=60, signum=signal.SIGINT, group=True) != 0
        assert not child.killed
        wait_for(lambda: gone(grandchild), timeout=60)

    def test_kill_takes_its_whole_session(self, tmp_path: Path) -> None:
        """SIGKILL to a child in a session of its own reaches the processes it started."""
        log = tmp_path / "child.log"
        child = python(STARTS_A_GRANDCHILD, log, own_session=True)
        wait_for(lambda: log.read_text().strip().isdigit(), timeout=60)
        grandchild = int(log.read_text())
        assert child.kill() == -signal.SIGKILL
        wait_for(lambda: gone(grandchild), timeout=60)

    def test_no_group_to_signal_without_a_session_of_its_own(self, tmp_path: Path) -> None:
        """Our own process group is never the child's to signal."""
        log = tmp_path / "child.log"
        with python(IGNORES_SIGTERM, log, grace_seconds=0.1) as child:
            with pytest.raises(NoSessionToSignal, match="no session of its own"):
                child.send_signal(signal.SIGTERM, group=True)
            assert child.poll() is None


class TestFreePort:
    def test_nothing_listens_there(self) -> None:
        """The port can be bound on the loopback at once."""
        port = free_port()
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind(("127.0.0.1", port))
            assert sock.getsockname()[1] == port
