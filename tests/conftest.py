"""Fixtures shared by every test package: databases, Redis, settings."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
import redis
import structlog
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from config.database import make_engine
from config.settings import Settings
from records.migrate import upgrade
from sandbox.server import RunningSandbox, run_sandbox
from sandbox.settings import SandboxSettings
from tests.databases import PostgresTemplate, SqliteTemplate, postgres_template
from tests.processors.flow import Sandbox
from tests.services import missing_service, postgres_schema, redis_process
from tests.storage_fixtures import bucket, s3_server, s3_store
from voicehook.redis_server import RedisServer

REDIS_DATABASES = 16  # redis-server's default
SECRET = "whsec_test_newest"
OLD_SECRET = "whsec_test_older"


@pytest.fixture(autouse=True)
def _reset_structlog(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Each test starts with structlog's defaults, and no logger is cached: commands run in
    process configure logging onto streams that close after them, and a logger cached then
    (configure_logging caches on first use) would write into a closed stream ever after."""
    configure = structlog.configure

    def configure_uncached(**options: Any) -> None:
        configure(**{**options, "cache_logger_on_first_use": False})

    monkeypatch.setattr(structlog, "configure", configure_uncached)
    yield
    structlog.reset_defaults()
    structlog.contextvars.clear_contextvars()


def _hang_guard(item: pytest.Item) -> float:
    marker = item.get_closest_marker("timeout")
    return float(marker.args[0]) if marker is not None and marker.args else 0.0


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests that declare a longer hang guard than the project's (the bench runs, `dev`, the
    Procfile: the longest of all) run first. xdist deals tests out in collection order, and
    one of them dealt last would keep its worker busy long after the others ran out."""
    items.sort(key=lambda item: -_hang_guard(item))


def _test_process() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> SqliteTemplate:
    return SqliteTemplate(tmp_path_factory.mktemp("template"))


@pytest.fixture(scope="session")
def _postgres_template() -> Iterator[PostgresTemplate | None]:
    base = os.environ.get("TEST_DATABASE_URL")
    if not base:
        yield None
        return
    with postgres_template(base, _test_process()) as template:
        yield template


def _sqlite(request: pytest.FixtureRequest, tmp_path: Path, *, migrated_by: str) -> str:
    """A SQLite file's URL in `tmp_path`: a copy of the migrated template when the test takes
    the fixture `migrated_by`, else no file yet."""
    url = f"sqlite:///{tmp_path / 'voicehook.db'}"
    if migrated_by in request.fixturenames:
        request.getfixturevalue("_sqlite_template").copy_to(url)
    return url


def _postgres(request: pytest.FixtureRequest) -> Iterator[str]:
    """A schema's URL on the test server: the emptied migrated one of this test process when
    the test takes `migrated_engine`, else a new empty one."""
    base = os.environ.get("TEST_DATABASE_URL")
    if not base:
        missing_service("TEST_DATABASE_URL is not set")
        return
    if "migrated_engine" not in request.fixturenames:
        with postgres_schema(base) as url:
            yield url
        return
    template: PostgresTemplate = request.getfixturevalue("_postgres_template")
    try:
        url = template.emptied()
    except SQLAlchemyError as exc:
        missing_service(f"PostgreSQL at {base}: {exc}")
    yield url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database URL, once on SQLite and once on PostgreSQL: migrated when the test takes
    `migrated_engine`, else empty."""
    if request.param == "sqlite":
        yield _sqlite(request, tmp_path, migrated_by="migrated_engine")
    else:
        yield from _postgres(request)


@pytest.fixture
def sqlite_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A SQLite database URL: migrated when the test takes `sqlite_engine`, else empty."""
    return _sqlite(request, tmp_path, migrated_by="sqlite_engine")


@pytest.fixture
def postgres_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """A PostgreSQL schema's URL: migrated when the test takes `migrated_engine`, else empty."""
    yield from _postgres(request)


__all__ = ["bucket", "s3_server", "s3_store"]  # fixtures, for every test package

# The app's own variables (REDIS_URL, DATABASE_URL, VPAI_..., what `voicehook sandbox` reads):
# a developer may have exported them for the app; the tests neither use nor pass them on.
APP_VARIABLES = frozenset(name.upper() for name in Settings.model_fields)


@pytest.fixture(scope="session", autouse=True)
def _no_app_environment() -> Iterator[None]:
    """Keep the developer's app settings out of the tests' Settings and child processes."""
    with pytest.MonkeyPatch.context() as patch:
        for name in list(os.environ):
            # AWS_*: boto3 reads more of them than the settings name (profiles, endpoints).
            if name.upper() in APP_VARIABLES or name.upper().startswith(("SANDBOX_", "AWS_")):
                patch.delenv(name)
        yield


def worker_redis_url(base: str, worker: str | None) -> str:
    """`base` with its database number moved up by the xdist worker's index (gw2: +2)."""
    if not worker or not worker.startswith("gw"):
        return base
    parts = urlsplit(base)
    database = int(parts.path.strip("/") or 0) + int(worker.removeprefix("gw"))
    if database >= REDIS_DATABASES:
        raise pytest.UsageError(f"{base} leaves no Redis database for xdist worker {worker}")
    return urlunsplit(parts._replace(path=f"/{database}"))


@pytest.fixture(scope="session")
def _session_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    base = os.environ.get("TEST_REDIS_URL")
    if base:
        url = worker_redis_url(base, os.environ.get("PYTEST_XDIST_WORKER"))
        try:
            redis.Redis.from_url(url, socket_connect_timeout=1).ping()
        except redis.RedisError as exc:
            missing_service(f"Redis at {url}: {exc}")
        yield url
        return
    with redis_process(tmp_path_factory.mktemp("redis")) as server:
        yield server.url


@pytest.fixture
def redis_url(_session_redis: str) -> str:
    """A real Redis database, emptied for this test: TEST_REDIS_URL's (plus the xdist
    worker's index) when set, else a private server's. Never the app's REDIS_URL."""
    redis.Redis.from_url(_session_redis).flushdb()
    return _session_redis


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[RedisServer]:
    """A Redis server of this test's own, which the test may stop and start."""
    with redis_process(tmp_path) as server:
        yield server


def make_settings(database_url: str, redis_url: str | None = None, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "database_url": database_url,
        "redis_url": redis_url,
        "vpai_webhook_secrets": f"{SECRET},{OLD_SECRET}",
        "log_format": "json",
    }
    values.update(overrides)
    return Settings.model_validate(values)


@contextmanager
def migrated(database_url: str) -> Iterator[Engine]:
    """An engine on `database_url`, migrated to the head revision; disposed on exit."""
    engine = make_engine(make_settings(database_url))
    upgrade(engine)
    try:
        yield engine
    finally:
        engine.dispose()


@pytest.fixture
def migrated_engine(database_url: str) -> Iterator[Engine]:
    """An engine on `database_url`, which is migrated for tests that take this."""
    engine = make_engine(make_settings(database_url))
    yield engine
    engine.dispose()


@pytest.fixture
def sqlite_engine(sqlite_url: str) -> Iterator[Engine]:
    """A migrated SQLite database, for tests that need one dialect only."""
    engine = make_engine(make_settings(sqlite_url))
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def sandbox_server() -> Iterator[RunningSandbox]:
    with run_sandbox(SandboxSettings(speech="tone", seed=11)) as server:
        yield server


@pytest.fixture
def vpai(sandbox_server: RunningSandbox) -> Iterator[Sandbox]:
    sandbox = Sandbox(sandbox_server)
    sandbox.reset()
    yield sandbox
    sandbox.control.close()
