"""A worker's claim on an event: the pure rule, and the SQL that claims by it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, update

from records.claims import Busy, ClaimedEvent, claim_event, hand_back, may_claim, settle_event
from records.event_store import EventStore
from records.events import EVENTS, EventStatus
from records.types import utcnow
from tests.receiver.conftest import events, incoming

NOW = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)
LEASE = 300.0


class TestMayClaim:
    def test_new_events_are_claimable(self) -> None:
        """Received and queued events may be started."""
        assert may_claim("received", None, NOW, LEASE)
        assert may_claim("queued", None, NOW, LEASE)

    def test_processing_events_only_after_their_lease(self) -> None:
        """An event another worker is on is left alone until its lease runs out."""
        assert not may_claim("processing", NOW - timedelta(seconds=10), NOW, LEASE)
        assert may_claim("processing", NOW - timedelta(seconds=301), NOW, LEASE)

    @pytest.mark.parametrize("status", ["processed", "ignored", "failed"])
    def test_settled_events_are_not_claimable(self, status: str) -> None:
        """Processed, ignored and failed events are never processed again by a redelivery."""
        assert not may_claim(status, None, NOW, LEASE)


def stored_event(engine: Engine, status: str, started_at: datetime | None) -> str:
    [outcome] = EventStore(engine).persist([incoming(f"gen-{status}-{started_at}")])
    with engine.begin() as conn:
        conn.execute(
            update(EVENTS)
            .where(EVENTS.c.id == outcome.event_id)
            .values(status=status, started_at=started_at)
        )
    return outcome.event_id


class TestClaimEvent:
    @pytest.mark.parametrize(
        ("status", "started_ago"),
        [
            ("received", None),
            ("queued", None),
            ("processing", 10.0),
            ("processing", 3600.0),
            ("processed", None),
            ("ignored", None),
            ("failed", 3600.0),
        ],
    )
    def test_the_sql_claims_what_the_rule_allows(
        self, migrated_engine: Engine, status: str, started_ago: float | None
    ) -> None:
        """The claim's WHERE clause agrees with `may_claim` for every state."""
        now = utcnow()
        started = None if started_ago is None else now - timedelta(seconds=started_ago)
        event_id = stored_event(migrated_engine, status, started)
        claimed = claim_event(migrated_engine, event_id, LEASE)
        assert isinstance(claimed, ClaimedEvent) == may_claim(status, started, now, LEASE)

    def test_a_held_event_is_busy_until_its_lease_ends(self, migrated_engine: Engine) -> None:
        """A second claim within the lease is told how long to wait."""
        event_id = stored_event(migrated_engine, "received", None)
        first = claim_event(migrated_engine, event_id, LEASE)
        assert isinstance(first, ClaimedEvent)
        assert first.attempts == 1
        assert first.data["id"].startswith("gen-")
        second = claim_event(migrated_engine, event_id, LEASE)
        assert isinstance(second, Busy)
        assert 0 < second.seconds <= LEASE + 1

    def test_hand_back_then_settle(self, migrated_engine: Engine) -> None:
        """A handed-back event is queued again with its reason; a settled one is not claimed."""
        event_id = stored_event(migrated_engine, "received", None)
        assert isinstance(claim_event(migrated_engine, event_id, LEASE), ClaimedEvent)
        hand_back(migrated_engine, event_id, "later")
        [row] = events(migrated_engine)
        assert (row["status"], row["last_error"]) == ("queued", "later")
        settle_event(migrated_engine, event_id, EventStatus.PROCESSED, None)
        assert claim_event(migrated_engine, event_id, LEASE) is None
