"""What the overview reads besides the database, each on real Redis: the budget's use, queue
depths, the sweeper's last round; and the pure pieces (bars, the refusal tally, cursors)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
import redis

from admin.charts import HEIGHT, stacked_bars
from admin.errors import BadQuery
from admin.params import cursor, page_key
from admin.security import content_security_policy, media_origins
from config.broker import build_broker, enqueue_events
from config.queue_depths import queue_depths
from processors.budget import ApiBudget, BudgetPolicy, workspace_name
from processors.budget_usage import read_usage
from receiver.outcome_tally import MinuteTally
from records.keyset import Position
from sweeper.last_round import RoundRecorder, read_last_round
from sweeper.loop import Chore, run_chores
from tests.conftest import make_settings


class TestBudgetUsage:
    def test_slots_per_minute_and_the_last_pause(self, redis_url: str) -> None:
        """Slots taken show in the window and in this minute; a 429 pause is remembered."""
        client = redis.Redis.from_url(redis_url)
        policy = BudgetPolicy(10, 60.0, 0.0)
        budget = ApiBudget(client, "ws-dash", policy)
        for _ in range(3):
            assert budget.try_acquire() == 0.0
        budget.block_for(30)
        usage = read_usage(client, "ws-dash", policy)
        assert usage.used == 3
        assert usage.per_minute[-1] == 3
        assert sum(usage.per_minute) == 3
        assert 25 < usage.blocked_seconds <= 30
        assert usage.last_pause is not None
        started, until = usage.last_pause
        assert (until - started).total_seconds() == pytest.approx(30, abs=0.01)

    def test_workspace_name_never_shows_the_key(self, redis_url: str, sqlite_url: str) -> None:
        """The configured workspace is the name; without one, a fingerprint, never the key."""
        settings = make_settings(sqlite_url, redis_url)
        assert (
            workspace_name(settings.model_copy(update={"vpai_workspace": "acme"}), "s3cr3t")
            == "acme"
        )
        unnamed = settings.model_copy(update={"vpai_workspace": None})
        assert "s3cr3t" not in workspace_name(unnamed, "s3cr3t")


class TestQueueDepths:
    def test_enqueued_messages_are_counted(self, redis_url: str, sqlite_url: str) -> None:
        """Messages put on the events queue show as ready there, nowhere else."""
        broker = build_broker(make_settings(sqlite_url, redis_url))
        try:
            enqueue_events(broker, ["e1", "e2"])
            depths = {d.queue: d for d in queue_depths(broker.client)}
        finally:
            broker.client.close()
        assert (depths["events"].ready, depths["events"].dead) == (2, 0)
        assert depths["jobs"].ready == 0


class TestSweeperRound:
    def test_each_round_is_recorded(self, redis_url: str) -> None:
        """After a round, Redis holds when it ended, which chores found work, which failed."""
        client = redis.Redis.from_url(redis_url)
        stop = threading.Event()

        def busy_once() -> bool:
            stop.set()
            return True

        def broken() -> bool:
            raise RuntimeError("boom")

        chores = [Chore("broken", broken), Chore("idle", lambda: False), Chore("busy", busy_once)]
        run_chores(chores, stop, 3600, RoundRecorder(client))
        last = read_last_round(client)
        assert last is not None
        assert (last.busy, last.failed) == (["busy"], ["broken"])
        assert abs((datetime.now(UTC) - last.at).total_seconds()) < 60


class TestPureParts:
    def test_bars_scale_to_the_tallest_column(self) -> None:
        """The tallest column fills the chart; a zero draws nothing; series stack upward."""
        bars = stacked_bars([(1, 1), (0, 0), (4, 0)], ["a", "b", "c"])
        assert [b.label for b in bars] == ["a: 1", "a: 1", "c: 4"]
        assert bars[2].height == HEIGHT
        assert bars[0].y == HEIGHT - HEIGHT / 4
        assert bars[1].y == bars[0].y - HEIGHT / 4

    def test_tally_keeps_the_last_hour(self) -> None:
        """Counts land in their minute; minutes older than an hour are gone."""
        tally = MinuteTally()
        tally.add("invalid_signature", 60.0)
        tally.add("invalid_signature", 119.0)
        tally.add("too_large", 3600.0 + 60)
        hour = tally.last_hour(3600.0 + 60)
        assert len(hour) == 60
        assert hour[-1] == (61, {"too_large": 1})
        assert all("invalid_signature" not in counts for _, counts in hour)
        assert dict(tally.last_hour(119.0))[1] == {"invalid_signature": 2}

    def test_cursor_round_trip_and_refusals(self) -> None:
        """A cursor the dashboard made reads back; anything else is a BadQuery."""
        key = Position(datetime(2026, 12, 3, 15, 0, tzinfo=UTC), "abc")
        assert page_key({"after": cursor(key)}) == key
        naive = cursor(Position(datetime(2026, 12, 3), "abc"))
        for bad in ("%%%", "bm90aGluZw", naive, "x" * 300):
            with pytest.raises(BadQuery):
                page_key({"after": bad})

    def test_media_sources_follow_the_store(self) -> None:
        """Only audio in a bucket widens media-src, to that bucket's endpoint."""
        assert "media-src 'self';" in content_security_policy(media_origins(None, None))
        origins = media_origins("s3://b/p", "http://127.0.0.1:9000/x")
        assert origins == ("http://127.0.0.1:9000",)
        assert media_origins("s3://b/p", None) == ("https://*.amazonaws.com",)
