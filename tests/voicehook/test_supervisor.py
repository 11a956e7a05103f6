"""The supervisor stops each child as a whole: SIGTERM to its session, one grace period, then
SIGKILL to what is left, so no process a child started outlives it; it waits until a child
exits or a stop signal comes, and then stops them all (real processes)."""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.services import wait_for
from tests.waiting import wait_until
from voicehook.supervisor import STOP_SIGNALS, Child, Supervisor, inherit_env, python_module

# The child starts a grandchild and sleeps; on SIGTERM the child exits at once, as a Dramatiq
# master may while its worker process is still busy. The grandchild writes its pid to argv[1]
# once it is set up; with argv[2] == "stubborn" it ignores SIGTERM (stuck mid-write).
GRANDCHILD = """
import os, signal, sys, time
if sys.argv[2] == "stubborn":
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
with open(sys.argv[1] + ".tmp", "w") as out:
    out.write(str(os.getpid()))
os.replace(sys.argv[1] + ".tmp", sys.argv[1])
time.sleep(600)
"""
CHILD = """
import signal, subprocess, sys, time
subprocess.Popen([sys.executable, "-c", sys.argv[3], sys.argv[1], sys.argv[2]])
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
time.sleep(600)
"""


def alive(pid: int) -> bool:
    """Running (a zombie waiting for init to reap it has exited)."""
    try:
        return "\nState:\tZ" not in Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False


@pytest.fixture(autouse=True)
def own_signal_handlers() -> Iterator[None]:
    """The supervisor takes the stop signals over; this test process gets its own back."""
    saved = {signum: signal.getsignal(signum) for signum in STOP_SIGNALS}
    yield
    for signum, handler in saved.items():
        signal.signal(signum, handler)


@pytest.fixture
def grandchildren() -> Iterator[list[int]]:
    """The grandchildren a test started; any the supervisor left running are killed after."""
    started: list[int] = []
    yield started
    for pid in started:
        if alive(pid):
            os.kill(pid, signal.SIGKILL)


def grandchild_of(
    supervisor: Supervisor, tmp_path: Path, kind: str, grandchildren: list[int]
) -> int:
    """Start the child; the pid of its grandchild once that runs."""
    pid_file = tmp_path / f"{kind}.pid"
    supervisor.start(Child(kind, [sys.executable, "-c", CHILD, str(pid_file), kind, GRANDCHILD]))
    wait_for(pid_file.exists, 60, description="the child started its grandchild")
    grandchildren.append(int(pid_file.read_text()))
    return grandchildren[-1]


class TestStop:
    def test_the_grandchildren_get_sigterm_too(
        self, tmp_path: Path, grandchildren: list[int]
    ) -> None:
        """The child exits on SIGTERM; its grandchild, which the child never signals, is
        stopped by the same SIGTERM to the session, within the grace period."""
        supervisor = Supervisor(dict(os.environ), grace_seconds=60)
        grandchild = grandchild_of(supervisor, tmp_path, "obedient", grandchildren)
        supervisor.stop()
        assert not alive(grandchild)

    def test_what_outlives_the_grace_period_is_killed(
        self, tmp_path: Path, grandchildren: list[int]
    ) -> None:
        """A grandchild that ignores SIGTERM, left behind when its parent exited, is killed
        once the grace period is over: nothing of the child survives its stop."""
        supervisor = Supervisor(dict(os.environ), grace_seconds=0.5)
        grandchild = grandchild_of(supervisor, tmp_path, "stubborn", grandchildren)
        supervisor.stop()
        assert not alive(grandchild)

    def test_each_child_has_a_session_of_its_own(
        self, tmp_path: Path, grandchildren: list[int]
    ) -> None:
        """A terminal's Ctrl-C to our group does not reach the children: we stop them."""
        supervisor = Supervisor(dict(os.environ), grace_seconds=60)
        grandchild = grandchild_of(supervisor, tmp_path, "obedient", grandchildren)
        try:
            assert os.getsid(grandchild) != os.getsid(0)
            assert os.getpgid(grandchild) != os.getpgid(0)
        finally:
            supervisor.stop()


def signal_once_waiting(signum: int) -> threading.Thread:
    """A thread that sends `signum` to this process once `wait()` has taken the stop signals
    over (its handler replaced the KeyboardInterrupt that `start()` installs)."""

    def send() -> None:
        wait_until(
            lambda: signal.getsignal(signum) is not signal.default_int_handler,
            description="the supervisor waits",
        )
        os.kill(os.getpid(), signum)

    thread = threading.Thread(target=send, daemon=True)
    thread.start()
    return thread


def signal_self(signum: int) -> None:
    """Send `signum` to this process and wait (for ever, but for the hang guard) for its
    handler to interrupt the wait."""
    os.kill(os.getpid(), signum)
    wait_until(lambda: False, description=f"signal {signum} interrupts this wait")


class TestWait:
    def test_a_child_that_exits_stops_the_rest_with_its_code(
        self, tmp_path: Path, grandchildren: list[int], capsys: pytest.CaptureFixture[str]
    ) -> None:
        """One child failing (a bad command: exit 2) ends the wait with its code, says which,
        and stops the other child with its grandchild."""
        supervisor = Supervisor(dict(os.environ), grace_seconds=60)
        grandchild = grandchild_of(supervisor, tmp_path, "obedient", grandchildren)
        supervisor.start(Child("failing", python_module("voicehook", "no-such-command")))
        assert supervisor.wait() == 2
        assert not alive(grandchild)
        assert "voicehook: failing exited with 2; stopping" in capsys.readouterr().err

    def test_a_child_that_ends_cleanly_is_still_a_failure(self) -> None:
        """A child that should run until stopped and exits 0 ends the wait with 1; the
        children get the supervisor's environment."""
        check = "import os, sys; sys.exit(0 if os.environ['VOICEHOOK_TEST_MARK'] == 'yes' else 9)"
        supervisor = Supervisor(inherit_env(VOICEHOOK_TEST_MARK="yes"), grace_seconds=60)
        supervisor.start(Child("done", [sys.executable, "-c", check]))
        assert supervisor.wait() == 1

    @pytest.mark.parametrize("signum", STOP_SIGNALS, ids=[s.name for s in STOP_SIGNALS])
    def test_a_stop_signal_while_waiting_stops_all_and_is_success(
        self, tmp_path: Path, grandchildren: list[int], signum: signal.Signals
    ) -> None:
        """SIGINT, SIGTERM or SIGHUP to the supervisor: every child's session is stopped,
        and the wait returns 0 (asked to stop is no failure)."""
        supervisor = Supervisor(dict(os.environ), grace_seconds=60)
        grandchild = grandchild_of(supervisor, tmp_path, "obedient", grandchildren)
        sender = signal_once_waiting(signum)
        assert supervisor.wait() == 0
        sender.join()
        assert not alive(grandchild)

    def test_a_stop_signal_before_the_wait_is_a_keyboard_interrupt(
        self, tmp_path: Path, grandchildren: list[int]
    ) -> None:
        """Between the first start and the wait, SIGTERM interrupts the caller as Ctrl-C
        does, so that its `stop()` still reaches every child."""
        supervisor = Supervisor(dict(os.environ), grace_seconds=60)
        grandchild = grandchild_of(supervisor, tmp_path, "obedient", grandchildren)
        with pytest.raises(KeyboardInterrupt):
            signal_self(signal.SIGTERM)
        supervisor.stop()
        assert not alive(grandchild)
