"""The smoke tests' runner leaves no process behind, however the bench ends."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.bench.bench_run import run_in_session
from tests.waiting import wait_until
from voicehook.child_process import runs

# Starts a grandchild (in a session of its own, as the benches' servers are, when it is to
# hang; else in its own), writes its pid to the file given, says so on both streams, then
# waits for ever or exits, as asked.
PARENT = """
import subprocess, sys, time
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(3600)"],
                         start_new_session=sys.argv[2] == "hang")
open(sys.argv[1], "w").write(str(child.pid))
print("started", child.pid, flush=True)
print("on stderr", file=sys.stderr, flush=True)
if sys.argv[2] == "hang":
    time.sleep(3600)
"""


def grandchild(pid_file: Path) -> int:
    return int(pid_file.read_text())


class TestRunInSession:
    def test_a_run_past_its_deadline_is_killed_with_its_children(self, tmp_path: Path) -> None:
        """The hung program and the server it started are gone; the failure shows both
        streams."""
        pid_file = tmp_path / "pid"
        with pytest.raises(pytest.fail.Exception) as failed:
            # The deadline must pass while it hangs: only a start-up slower than 20 s could
            # end this run otherwise, and the test would then fail, not pass by mistake.
            run_in_session([sys.executable, "-c", PARENT, str(pid_file), "hang"], timeout=20)
        message = str(failed.value)
        assert "still ran after 20s" in message
        assert "--- stdout ---\nstarted" in message
        assert "on stderr" in message
        assert not runs(grandchild(pid_file))  # kill() returns once they are gone

    def test_what_a_finished_run_left_running_is_stopped(self, tmp_path: Path) -> None:
        """A program that exits leaving a child in its session: its output is returned, the
        child killed."""
        pid_file = tmp_path / "pid"
        finished = run_in_session(
            [sys.executable, "-c", PARENT, str(pid_file), "exit"], timeout=120
        )
        assert finished.returncode == 0
        assert finished.stdout.startswith("started ")
        assert finished.stderr == "on stderr\n"
        wait_until(lambda: not runs(grandchild(pid_file)), description="the grandchild is gone")
