"""The dashboard's reads on both databases: the overview's counts and buckets, keyset pages."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine, update

from records.dashboard_counts import overview
from records.dashboard_pages import EventQuery, events_page
from records.event_store import EventStore
from records.events import EVENTS
from records.types import utcnow
from tests.receiver.conftest import incoming


def store(engine: Engine, count: int, minutes_ago: float = 0) -> list[str]:
    batch = [incoming(f"gen-{minutes_ago}-{n}") for n in range(count)]
    at = utcnow() - timedelta(minutes=minutes_ago)
    for item in batch:
        item.received_at = at
    EventStore(engine).persist(batch)
    return [item.event_id for item in batch]


class TestOverview:
    def test_counts_buckets_and_oldest_waiting(self, migrated_engine: Engine) -> None:
        """Statuses are counted, deliveries land in their minute, the oldest wait is found."""
        old = store(migrated_engine, 2, minutes_ago=30)
        new = store(migrated_engine, 3)
        with migrated_engine.begin() as conn:
            conn.execute(update(EVENTS).where(EVENTS.c.id.in_(new)).values(status="processed"))
        found = overview(migrated_engine)
        assert found.events_by_status["received"] == 2
        assert found.events_processed_last_hour == 3
        assert sum(m.accepted for m in found.deliveries) == 5
        assert found.deliveries[-1].accepted == 3
        assert found.deliveries[-31].accepted == 2
        assert found.oldest_waiting is not None
        assert abs(found.oldest_waiting - (utcnow() - timedelta(minutes=30))) < timedelta(minutes=1)
        assert set(old).isdisjoint(new)


class TestEventsPage:
    def test_pages_by_keyset_without_overlap(self, migrated_engine: Engine) -> None:
        """Rows of equal time are split across pages by id, none lost or repeated."""
        ids = store(migrated_engine, 5)  # the same received_at for all five
        seen: list[str] = []
        key = None
        while True:
            page = events_page(migrated_engine, EventQuery(), key, 2)
            seen.extend(row["id"] for row in page.items)
            if page.next is None:
                break
            key = page.next
        assert sorted(seen) == sorted(ids)
        assert len(seen) == 5
