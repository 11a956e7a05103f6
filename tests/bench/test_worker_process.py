"""Which of the worker's processes runs the events queue."""

from __future__ import annotations

import pytest

from bench.service_stack import caller_env
from bench.worker_process import is_events_dramatiq
from processors.worker import DRAMATIQ_ARGS


class TestIsEventsDramatiq:
    def test_events_dramatiq(self) -> None:
        """The Dramatiq CLI with `--queues events` is the events process's parent."""
        argv = ["python", "-m", "dramatiq", *DRAMATIQ_ARGS, "--queues", "events"]
        assert is_events_dramatiq(argv)

    def test_jobs_dramatiq_and_others_are_not(self) -> None:
        """The submissions process and unrelated ones are not."""
        assert not is_events_dramatiq(["python", "-m", "dramatiq", "x", "--queues", "jobs"])
        assert not is_events_dramatiq(["python", "-m", "voicehook", "worker"])
        assert not is_events_dramatiq(["python", "-m", "dramatiq", "x", "--queues"])


class TestCallerEnv:
    def test_voicehook_settings_do_not_leak(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """A shell's REDIS_URL or WORKER_PROCESSES never reaches the bench's services."""
        monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/0")
        monkeypatch.setenv("worker_processes", "9")
        monkeypatch.setenv("BENCH_UNRELATED", "kept")
        env = caller_env()
        assert "REDIS_URL" not in env
        assert "worker_processes" not in env
        assert env["BENCH_UNRELATED"] == "kept"
