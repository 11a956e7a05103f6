"""A database that cannot serve a step right now (SQLite's write lock held past the busy
timeout, as under CPU load) postpones the event: a warning and a delayed retry, never an
unhandled SQLAlchemy exception out of the actor, and nothing lost."""

from __future__ import annotations

import dataclasses
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine
from structlog.testing import capture_logs

from config.database import make_engine
from config.settings import Settings
from processors import dispatch
from processors.database_busy import MAX_DELAY_SECONDS
from processors.worker import ProcessorContext
from records.types import utcnow
from tests.processors.flow import Sandbox, event, job, store_event
from tests.processors.test_generation_ready import submitted_and_ready
from tests.waiting import wait_until

BUSY_TIMEOUT_SECONDS = 0.2  # how long a step waits for the lock before SQLite says "locked"


@contextmanager
def write_lock_held(database: Path) -> Iterator[None]:
    """Another connection holds SQLite's write lock for the block (as a stalled writer would)."""
    holder = sqlite3.connect(database, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")
        yield
        holder.execute("ROLLBACK")
    finally:
        holder.close()


LEASE_SECONDS = 2.0


@pytest.fixture
def impatient(ctx: ProcessorContext, database_url: str) -> Iterator[ProcessorContext]:
    """The worker's context on an engine that gives up on a held lock after 0.2 s."""
    engine: Engine = make_engine(
        Settings(database_url=database_url, database_timeout_seconds=BUSY_TIMEOUT_SECONDS)
    )
    try:
        yield dataclasses.replace(ctx, engine=engine, event_lease_seconds=LEASE_SECONDS)
    finally:
        engine.dispose()


def database_path(database_url: str) -> Path:
    return Path(database_url.removeprefix("sqlite:///"))


# SQLite's write lock is what these hold.
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
class TestDatabaseBusy:
    def test_a_held_write_lock_postpones_the_event_and_loses_nothing(
        self, impatient: ProcessorContext, ctx: ProcessorContext, vpai: Sandbox, database_url: str
    ) -> None:
        """While another connection holds the lock, processing the event raises nothing,
        asks for a delayed retry and logs a warning; once the lock is gone, the retry
        completes the job."""
        job_id, generation = submitted_and_ready(ctx, vpai)
        event_id = store_event(ctx.engine, "generation.ready", generation)
        delays: list[float] = []
        with write_lock_held(database_path(database_url)), capture_logs() as logs:
            dispatch.process_event(impatient, event_id, delays.append)
        assert len(delays) == 1
        assert 0 < delays[0] <= MAX_DELAY_SECONDS
        busy = [entry for entry in logs if entry["event"] == "event.database_busy"]
        assert busy, logs
        assert busy[0]["log_level"] == "warning"
        assert "database is locked" in busy[0]["error"]
        assert event(ctx.engine, event_id).status in {"queued", "received"}

        dispatch.process_event(impatient, event_id, delays.append)
        assert event(ctx.engine, event_id).status == "processed"
        assert job(ctx.engine, job_id).status == "ready"
        assert len(delays) == 1

    def test_a_lock_taken_mid_event_keeps_the_lease_and_the_event_comes_back(
        self, impatient: ProcessorContext, ctx: ProcessorContext, vpai: Sandbox, database_url: str
    ) -> None:
        """Claimed, then the lock is taken while the audio downloads: completing and handing
        back both fail, so the event keeps its lease and the retry is asked for; the message
        after it finds the event busy and waits out the lease; then it completes the job."""
        job_id, generation = submitted_and_ready(ctx, vpai)
        event_id = store_event(ctx.engine, "generation.ready", generation)
        vpai.faults(downloadSlowRate=1.0, downloadSlowBytesPerSecond=64 * 1024)
        delays: list[float] = []
        release = threading.Event()

        def hold_while_processing() -> None:
            wait_until(lambda: event(ctx.engine, event_id).status == "processing")
            with write_lock_held(database_path(database_url)):
                release.wait(60)

        holder = threading.Thread(target=hold_while_processing)
        holder.start()
        try:
            with capture_logs() as logs:
                dispatch.process_event(impatient, event_id, delays.append)
        finally:
            release.set()
            holder.join(60)
        busy = [entry for entry in logs if entry["event"] == "event.database_busy"]
        assert [entry["handed_back"] for entry in busy] == [False], logs
        assert event(ctx.engine, event_id).status == "processing"  # its lease still runs
        vpai.faults(downloadSlowRate=0.0)

        dispatch.process_event(impatient, event_id, delays.append)
        assert len(delays) == 2
        assert delays[1] > 0  # busy: come back when the lease ends
        assert job(ctx.engine, job_id).status != "ready"

        wait_until(
            lambda: (
                event(ctx.engine, event_id).started_at is not None
                and (utcnow() - aware(event(ctx.engine, event_id).started_at)).total_seconds()
                > LEASE_SECONDS
            ),
            description="the lease ran out",
        )
        dispatch.process_event(impatient, event_id, delays.append)
        assert event(ctx.engine, event_id).status == "processed"
        assert job(ctx.engine, job_id).status == "ready"


def aware(value: datetime | None) -> datetime:
    assert value is not None
    return value if value.tzinfo else value.replace(tzinfo=UTC)
