"""Webhook bodies and the retry schedule, as pure functions."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson

from sandbox.webhooks import event_body, retry_delay


class TestEventBody:
    def test_has_event_timestamp_and_data_only(self) -> None:
        """The body is `{"event", "timestamp", "data"}` with a millisecond Z timestamp."""
        moment = datetime(2025, 1, 1, 0, 0, 0, 5000, tzinfo=UTC)
        body = event_body("generation.ready", {"id": "g1"}, moment)
        assert orjson.loads(body) == {
            "event": "generation.ready",
            "timestamp": "2025-01-01T00:00:00.005Z",
            "data": {"id": "g1"},
        }

    def test_is_compact_and_stable(self) -> None:
        """The same event serialises to the same bytes (what retries resend)."""
        moment = datetime(2025, 1, 1, tzinfo=UTC)
        first = event_body("voice.cloned", {"id": "v", "name": "Émile"}, moment)
        assert first == event_body("voice.cloned", {"id": "v", "name": "Émile"}, moment)
        assert b" " not in first.replace("Émile".encode(), b"")


class TestRetryDelay:
    def test_follows_the_schedule_then_gives_up(self) -> None:
        """After the n-th failure wait schedule[n-1]; after the last, stop."""
        schedule = [0.5, 1.0, 2.0]
        assert [retry_delay(schedule, n) for n in (1, 2, 3, 4)] == [0.5, 1.0, 2.0, None]

    def test_an_empty_schedule_never_retries(self) -> None:
        """With no schedule a delivery gets exactly one attempt."""
        assert retry_delay([], 1) is None
