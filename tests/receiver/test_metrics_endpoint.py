"""`voicehook web`'s /metrics: the receiver's counters with the queue gauges, behind
METRICS_TOKEN when set (in-process app, real database and Redis)."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Engine

from tests.conftest import make_settings
from tests.in_process import receiver_client
from tests.receiver.conftest import envelope, post
from tests.waiting import wait_until

WAITING = 'voicehook_queue_messages{queue="events",state="waiting"} 1.0'


class TestMetricsEndpoint:
    def test_queue_gauges_follow_what_was_stored(
        self, migrated_engine: Engine, database_url: str, redis_url: str
    ) -> None:
        """After one accepted webhook, /metrics counts the delivery and the gauges show one
        unprocessed event and one message waiting on the events queue."""
        with receiver_client(make_settings(database_url, redis_url)) as receiver:
            assert post(receiver, envelope(resource_id="gen-gauge")).status_code == 202
            # A read slower than the gauges' time limit is served by a later scrape; and the
            # enqueue follows the 202 (inline commit answers first), so a scrape between the
            # two has the event stored but no message yet: a later snapshot has both.

            def fresh() -> str | None:
                text = receiver.get("/metrics").text
                up = "voicehook_signals_up 1.0" in text
                return text if up and WAITING in text else None

            text = wait_until(fresh, description="a scrape with fresh gauges and the message")
        assert 'voicehook_webhook_deliveries_total{outcome="accepted"} 1.0' in text
        assert "voicehook_signals_up 1.0" in text
        events = {
            sample.labels["status"]: sample.value
            for family in text_string_to_metric_families(text)
            for sample in family.samples
            if sample.name == "voicehook_events"
        }
        # Not processed yet: `received`, or `queued` where the commit marks it so.
        assert events["received"] + events["queued"] == 1
        assert sum(events.values()) == 1
        assert WAITING in text
        assert 'voicehook_dead_letters{queue="events"} 0.0' in text

    def test_gauges_can_be_turned_off(
        self, migrated_engine: Engine, database_url: str, redis_url: str
    ) -> None:
        """METRICS_QUEUE_GAUGES=false: the receiver's own metrics only."""
        settings = make_settings(database_url, redis_url, metrics_queue_gauges=False)
        with receiver_client(settings) as receiver:
            text = receiver.get("/metrics").text
        assert "voicehook_webhook_deliveries_total" in text
        assert "voicehook_signals_up" not in text

    def test_token_is_required_when_set(
        self, migrated_engine: Engine, database_url: str, redis_url: str
    ) -> None:
        """With METRICS_TOKEN, no header or a wrong one is 401; the right bearer gets it."""
        settings = make_settings(database_url, redis_url, metrics_token="s3cret-scrape")
        with receiver_client(settings) as receiver:
            assert receiver.get("/metrics").status_code == 401
            wrong = receiver.get("/metrics", headers={"authorization": "Bearer nope"})
            assert wrong.status_code == 401
            assert wrong.json() == {"error": "unauthorized"}
            right = receiver.get("/metrics", headers={"authorization": "Bearer s3cret-scrape"})
        assert right.status_code == 200
        assert "voicehook_webhook_deliveries_total" in right.text
