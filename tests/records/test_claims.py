"""A worker's claim on an event: the pure rule, and the SQL that claims by it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, update

from records.claims import (
    CLAIMABLE_STATES,
    Busy,
    ClaimedEvent,
    claim_event,
    hand_back,
    lease_remaining,
    settle_event,
)
from records.event_store import EventStore
from records.events import EVENTS, EventStatus
from records.types import utcnow
from tests.receiver.conftest import events, incoming

NOW = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)
LEASE = 300.0


def claim_allowed(status: str, started_at: datetime | None, now: datetime) -> bool:
    """The rule as the module declares it: a claimable state, or a lease that ran out."""
    if status in {state.value for state in CLAIMABLE_STATES}:
        return True
    remaining = lease_remaining(status, started_at, now, LEASE)
    return remaining is not None and remaining <= 0


class TestLeaseRemaining:
    def test_new_events_are_held_by_nobody(self) -> None:
        """Received and queued events have no lease; they are claimable."""
        assert lease_remaining("received", None, NOW, LEASE) is None
        assert claim_allowed("received", None, NOW)
        assert claim_allowed("queued", None, NOW)

    def test_processing_events_only_after_their_lease(self) -> None:
        """An event another worker is on is left alone until its lease runs out."""
        assert lease_remaining("processing", NOW - timedelta(seconds=10), NOW, LEASE) == 290.0
        assert not claim_allowed("processing", NOW - timedelta(seconds=10), NOW)
        assert claim_allowed("processing", NOW - timedelta(seconds=301), NOW)

    def test_a_naive_start_time_is_utc(self) -> None:
        """SQLite hands back naive datetimes; they are read as UTC."""
        naive = (NOW - timedelta(seconds=100)).replace(tzinfo=None)
        assert lease_remaining("processing", naive, NOW, LEASE) == 200.0

    @pytest.mark.parametrize("status", ["processed", "ignored", "failed"])
    def test_settled_events_are_not_claimable(self, status: str) -> None:
        """Processed, ignored and failed events are never processed again by a redelivery."""
        assert lease_remaining(status, NOW, NOW, LEASE) is None
        assert not claim_allowed(status, None, NOW)


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
        """The claim's WHERE clause agrees with the declared rule for every state."""
        now = utcnow()
        started = None if started_ago is None else now - timedelta(seconds=started_ago)
        event_id = stored_event(migrated_engine, status, started)
        claimed = claim_event(migrated_engine, event_id, LEASE)
        assert isinstance(claimed, ClaimedEvent) == claim_allowed(status, started, now)

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
