"""Ops fixtures: receivers, fresh databases, stored deliveries, the CLI run in-process."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from records.envelope import ParsedEvent, parse_event
from records.event_store import EventStore, Incoming
from records.ids import new_id
from records.types import utcnow
from tests.cli_in_process import run_cli as run_cli  # noqa: PLC0414 - the ops tests take it from here
from tests.conftest import SECRET, make_settings, migrated
from tests.in_process import Served, served_receiver_client
from tests.receiver.conftest import signed_headers
from tests.services import postgres_schema


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """Commands run in-process configure logging onto the runner's streams; undo that."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.fixture
def receiver(database_url: str, redis_url: str, migrated_engine: Engine) -> Iterator[Served]:
    """The receiver app on the parametrised database and a real Redis, served on a thread
    (the CLI, in this process or its own, replays to its URL)."""
    with served_receiver_client(make_settings(database_url, redis_url)) as served:
        yield served


@pytest.fixture
def fresh_database_url(database_url: str, tmp_path: Path) -> Iterator[str]:
    """A second, empty database of the same kind as `database_url`."""
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'fresh.db'}"
        return
    with postgres_schema(os.environ["TEST_DATABASE_URL"]) as url:
        yield url


@pytest.fixture
def fresh_engine(fresh_database_url: str) -> Iterator[Engine]:
    """The second database, migrated."""
    with migrated(fresh_database_url) as engine:
        yield engine


def cli_env(database_url: str, redis_url: str | None = None, **extra: str) -> dict[str, str]:
    return {
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url or "",
        "VPAI_WEBHOOK_SECRETS": SECRET,
        **extra,
    }


def store(
    engine: Engine,
    body: bytes,
    *,
    remote_addr: str = "203.0.113.7",
    event: ParsedEvent | None = None,
) -> str:
    """Persist one delivery as the receiver would (signed headers, dedup); its event id."""
    [outcome] = EventStore(engine).persist(
        [
            Incoming(
                event_id=new_id(),
                event=event or parse_event(body),
                body=body,
                headers={k.lower(): v for k, v in signed_headers(body).items()},
                remote_addr=remote_addr,
                secret_fingerprint="f" * 12,
                received_at=utcnow(),
            )
        ]
    )
    return outcome.event_id
