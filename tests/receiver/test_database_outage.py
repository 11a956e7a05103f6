"""Database down, locked or failing mid-transaction: 503, and nothing half-written."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, create_engine, text
from starlette.testclient import TestClient

from tests.conftest import make_settings
from tests.in_process import receiver_client
from tests.receiver.conftest import deliveries, envelope, events, post
from tests.services import free_port


@pytest.fixture
def impatient_receiver(
    database_url: str, redis_url: str, migrated_engine: Engine
) -> Iterator[TestClient]:
    """A receiver, in process, that gives up on the database after half a second."""
    settings = make_settings(database_url, redis_url, database_timeout_seconds=0.5)
    with receiver_client(settings) as client:
        yield client


def install_failing_delivery_trigger(engine: Engine) -> None:
    """Make every insert into `deliveries` fail, after the event row was already written."""
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            conn.execute(
                text(
                    "CREATE TRIGGER fail_deliveries BEFORE INSERT ON deliveries "
                    "BEGIN SELECT RAISE(ABORT, 'simulated disk failure'); END"
                )
            )
        else:
            conn.execute(
                text(
                    "CREATE FUNCTION fail_delivery() RETURNS trigger AS $$ BEGIN "
                    "RAISE EXCEPTION 'simulated disk failure'; END $$ LANGUAGE plpgsql"
                )
            )
            conn.execute(
                text(
                    "CREATE TRIGGER fail_deliveries BEFORE INSERT ON deliveries "
                    "FOR EACH ROW EXECUTE FUNCTION fail_delivery()"
                )
            )


class TestDatabaseFailures:
    def test_failure_mid_transaction_is_503_and_leaves_no_event(
        self, impatient_receiver: TestClient, migrated_engine: Engine
    ) -> None:
        """If storing the delivery fails after the event insert, the event is rolled back too."""
        install_failing_delivery_trigger(migrated_engine)
        response = post(impatient_receiver, envelope(resource_id="gen-partial"))
        assert response.status_code == 503
        assert response.json() == {"error": "unavailable"}
        assert events(migrated_engine) == []
        assert deliveries(migrated_engine) == []
        metrics = impatient_receiver.get("/metrics").text
        assert 'voicehook_webhook_deliveries_total{outcome="unavailable"} 1.0' in metrics

    def test_locked_database_is_503_then_accepts_the_retry(
        self, impatient_receiver: TestClient, migrated_engine: Engine, database_url: str
    ) -> None:
        """While another process holds the write lock: 503 and no rows; the retry succeeds."""
        with hold_write_lock(database_url):
            response = post(impatient_receiver, envelope(resource_id="gen-locked"))
            assert response.status_code == 503
        assert events(migrated_engine) == []
        assert deliveries(migrated_engine) == []
        assert post(impatient_receiver, envelope(resource_id="gen-locked")).status_code == 202
        assert len(events(migrated_engine)) == 1

    def test_unreachable_postgres_is_503_and_not_ready(self, redis_url: str) -> None:
        """With no database server at all, deliveries get 503 and /readyz says why."""
        url = f"postgresql://postgres@127.0.0.1:{free_port()}/nothing"
        settings = make_settings(url, redis_url, database_timeout_seconds=1)
        with receiver_client(settings) as client:
            assert post(client, envelope()).status_code == 503
            ready = client.get("/readyz")
            assert ready.status_code == 503
            assert ready.json()["database"] == "unavailable"
            assert ready.json()["broker"] == "ok"


class hold_write_lock:
    """Hold the database's write lock on `events` from a separate connection."""

    def __init__(self, database_url: str) -> None:
        self._url = database_url

    def __enter__(self) -> None:
        if self._url.startswith("sqlite:///"):
            self._sqlite = sqlite3.connect(
                self._url.removeprefix("sqlite:///"), isolation_level=None
            )
            self._sqlite.execute("BEGIN EXCLUSIVE")
            return
        self._engine = create_engine(self._url.replace("postgresql://", "postgresql+psycopg://", 1))
        self._conn = self._engine.connect()
        self._transaction = self._conn.begin()
        self._conn.execute(text("LOCK TABLE events IN ACCESS EXCLUSIVE MODE"))

    def __exit__(self, *_: object) -> None:
        if self._url.startswith("sqlite:///"):
            self._sqlite.execute("ROLLBACK")
            self._sqlite.close()
            return
        self._transaction.rollback()
        self._conn.close()
        self._engine.dispose()
