"""The whole service for a bench run: a throwaway Redis, a fresh database, the sandbox in
its own process, the receiver (as `voicehook web` serves it) registered as its webhook
endpoint; the worker is started by the bench when it wants it."""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine

from bench import databases
from bench.jobs_api import JobsApi
from bench.sandbox_process import SandboxOptions, SandboxProcess, running_sandbox
from bench.servers import running_server
from bench.throwaway_redis import throwaway_redis
from config.database import make_engine
from config.settings import Settings
from receiver.app import WEBHOOK_PATH

RECEIVER_FACTORY = "receiver.app:app_from_environment"
SERVICE_ENV = {"LOG_FORMAT": "json", "LOG_LEVEL": "info"}  # the production defaults

Echo = Callable[[str], None]


@dataclass(frozen=True)
class Stack:
    workdir: Path
    database_url: str
    redis_url: str
    sandbox: SandboxProcess
    receiver_url: str
    receiver_pid: int
    env: dict[str, str]  # what the service's processes run with
    admin_token: str

    @property
    def audio_dir(self) -> Path:
        return Path(self.env["AUDIO_DIR"])

    def jobs_api(self) -> JobsApi:
        return JobsApi(self.receiver_url, self.admin_token)

    def engine(self) -> Engine:
        return make_engine(Settings(database_url=self.database_url))


@contextmanager
def bench_workdir(keep: bool, echo: Echo) -> Iterator[Path]:
    """A temp dir for logs, the database and audio; removed afterwards unless `keep`."""
    workdir = Path(tempfile.mkdtemp(prefix="voicehook-bench-"))
    try:
        yield workdir
    finally:
        if keep:
            echo(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


@contextmanager
def running_stack(
    workdir: Path,
    sandbox_options: SandboxOptions,
    service_env: Mapping[str, str],
    database_url: str | None = None,
) -> Iterator[Stack]:
    """Everything but the worker, up and wired; `service_env` adds to the service's settings.
    The database is `database_url` (migrated, and empty of events) or a fresh SQLite file."""
    with ExitStack() as stack:
        redis_url = stack.enter_context(throwaway_redis(workdir))
        database_url = database_url or databases.sqlite_url(workdir)
        databases.prepare(database_url)
        base_env = caller_env()
        sandbox = stack.enter_context(
            running_sandbox(sandbox_options, workdir=workdir, env=base_env)
        )
        secret = secrets.token_hex(32)
        admin_token = secrets.token_hex(16)
        env = {
            **base_env,
            **SERVICE_ENV,
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "VPAI_WEBHOOK_SECRETS": secret,
            "VPAI_API_BASE_URL": sandbox.api_base_url,
            "VPAI_API_KEY": sandbox.api_key,
            "ADMIN_TOKEN": admin_token,
            "AUDIO_DIR": str(workdir / "audio"),
            **service_env,
        }
        receiver = stack.enter_context(
            running_server(RECEIVER_FACTORY, workers=1, env=env, log_path=workdir / "receiver.log")
        )
        sandbox.call(
            "POST",
            "/webhook-endpoints",
            {"url": receiver.base_url + WEBHOOK_PATH, "secret": secret},
        )
        yield Stack(
            workdir=workdir,
            database_url=database_url,
            redis_url=redis_url,
            sandbox=sandbox,
            receiver_url=receiver.base_url,
            receiver_pid=receiver.pid,
            env=env,
            admin_token=admin_token,
        )


def caller_env() -> dict[str, str]:
    """The caller's environment without any voicehook setting, so that nothing of a shell's
    configuration (a REDIS_URL, WORKER_PROCESSES, …) leaks into the run."""
    settings = {name.upper() for name in Settings.model_fields}
    return {key: value for key, value in os.environ.items() if key.upper() not in settings}
