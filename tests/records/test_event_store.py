"""The event store's hot-path statements: what marking touches, and how they are planned."""

from __future__ import annotations

from sqlalchemy import Engine, update

from config.database import make_engine
from records.event_store import EventStore
from records.events import EVENTS, EventStatus
from records.migrate import upgrade
from tests.conftest import make_settings
from tests.receiver.conftest import events, incoming


def test_marking_queued_leaves_an_event_a_worker_already_claimed(migrated_engine: Engine) -> None:
    """A worker may take an event between its enqueue and its mark: the mark must not undo
    the claim, while the events still `received` become `queued`."""
    store = EventStore(migrated_engine)
    claimed, waiting = store.persist([incoming("claimed"), incoming("waiting")])
    with migrated_engine.begin() as conn:
        processing = EventStatus.PROCESSING.value
        conn.execute(
            update(EVENTS).where(EVENTS.c.id == claimed.event_id).values(status=processing)
        )
    store.mark_queued([claimed.event_id, waiting.event_id])
    by_id = {row["id"]: row for row in events(migrated_engine)}
    assert by_id[claimed.event_id]["status"] == EventStatus.PROCESSING.value
    assert by_id[claimed.event_id]["queued_at"] is None
    assert by_id[waiting.event_id]["status"] == EventStatus.QUEUED.value
    assert by_id[waiting.event_id]["queued_at"] is not None


def test_lookups_by_array_are_never_prepared_on_postgresql(postgres_url: str) -> None:
    """psycopg prepares a statement after 5 runs, and PostgreSQL may keep a generic plan made
    while the table was empty (a sequential scan): the lookups must be planned every time."""
    engine = make_engine(make_settings(postgres_url), pool_size=1)
    try:
        upgrade(engine)
        store = EventStore(engine)
        previous: list[str] = []
        for number in range(10):
            outcomes = store.persist([incoming(f"r{number}a"), incoming(f"r{number}b")], previous)
            previous = [outcome.event_id for outcome in outcomes]
        # The pool's one connection: the one psycopg prepared its statements on.
        connection = engine.raw_connection()
        cursor = connection.cursor()
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        prepared = [row[0] for row in cursor.fetchall()]
        connection.close()
        assert any(statement.startswith("INSERT INTO events") for statement in prepared)
        assert not [statement for statement in prepared if "ANY(" in statement], prepared
        assert {row["status"] for row in events(engine)} == {"queued", "received"}
    finally:
        engine.dispose()
