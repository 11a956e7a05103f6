"""A worker process's start-up: the broker first, then the context, then the actors."""

from __future__ import annotations

import importlib

import dramatiq
import pytest
import redis

from config.broker import BatchingRedisBroker
from config.queues import JOBS_QUEUE
from processors import worker
from processors.errors import WorkerNotStarted
from processors.worker import DRAMATIQ_ARGS, current_context, start_worker
from tests.conftest import make_settings
from voicehook.commands.worker import dramatiq_command


@pytest.fixture(autouse=True)
def _no_context(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test starts in a process whose worker start-up has not run (and leaves it so)."""
    monkeypatch.setattr(worker, "_context", None)


class TestStartWorker:
    def test_an_actor_before_start_up_is_a_worker_not_started(self) -> None:
        """Before start-up installs a context, an actor's look-up says so, naming the cause."""
        with pytest.raises(WorkerNotStarted):
            current_context()

    def test_start_up_sets_the_broker_and_installs_the_context(
        self, sqlite_url: str, redis_url: str
    ) -> None:
        """The broker is set globally, and the context schedules submissions through it."""
        start_worker(make_settings(sqlite_url, redis_url, vpai_api_key="vk_test_worker"))
        assert isinstance(dramatiq.get_broker(), BatchingRedisBroker)
        current_context().schedule_submission("job-1", 60)
        delayed = redis.Redis.from_url(redis_url).hlen(f"dramatiq:{JOBS_QUEUE}.DQ.msgs")
        assert delayed == 1

    def test_the_dramatiq_cli_runs_start_up_before_it_imports_the_actors(self) -> None:
        """The CLI's broker argument is `start_worker`; the actors module comes after it."""
        module, _, name = DRAMATIQ_ARGS[0].partition(":")
        assert getattr(importlib.import_module(module), name) is start_worker
        assert DRAMATIQ_ARGS[1:] == ("processors.actors",)
        command = dramatiq_command(JOBS_QUEUE, 1, 2)
        at = command.index(DRAMATIQ_ARGS[0])
        assert command[at - 2 : at + 2] == ["-m", "dramatiq", *DRAMATIQ_ARGS]
