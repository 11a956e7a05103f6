"""ALERT_WEBHOOK_URL: a real HTTP receiver, real Redis, a real database."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import Engine
from structlog.testing import capture_logs

from config.errors import ConfigurationError
from config.redis_connection import redis_client
from config.settings import Settings
from monitoring.alert_store import AlertStore
from monitoring.alert_webhook import AlertNotifier
from monitoring.signals import read_signals
from tests.conftest import make_settings
from tests.monitoring.rows import add_event, settle_all
from tests.monitoring.slack_sink import SlackSink, slack_sink


@pytest.fixture
def sink() -> Iterator[SlackSink]:
    with slack_sink() as found:
        yield found


class Round:
    """One sweeper round at a given time, through a fresh notifier (as after a restart)."""

    def __init__(self, settings: Settings, engine: Engine, redis_url: str) -> None:
        self.settings = settings
        self.engine = engine
        self.client = redis_client(redis_url)

    def __call__(self, at: float) -> int:
        self.client.delete("voicehook:alerts:lock")  # each call is the next round's turn
        with httpx.Client(timeout=5) as http:
            notifier = AlertNotifier(self.settings, AlertStore(self.client), http, clock=lambda: at)
            result = notifier.round(read_signals(self.settings, self.engine, self.client))
        return result.sent


@pytest.fixture
def round_at(sink: SlackSink, sqlite_engine: Engine, sqlite_url: str, redis_url: str) -> Round:
    settings = make_settings(
        sqlite_url, redis_url, alert_webhook_url=sink.url, alert_min_interval_seconds=300
    )
    return Round(settings, sqlite_engine, redis_url)


class TestAlertWebhook:
    def test_start_and_end_are_posted_once_across_restarts(
        self, sink: SlackSink, round_at: Round, redis_url: str
    ) -> None:
        """A dead letter: one FIRING post; later rounds by new notifiers (a restarted
        sweeper) post nothing more; once it is gone, one RESOLVED post."""
        client = redis_client(redis_url)
        client.zadd("dramatiq:events.XQ", {"m1": 1})
        assert round_at(1_000.0) == 1
        [fired] = sink.texts
        assert "[FIRING]" in fired
        assert "dead_letters" in fired
        assert "1 dead-lettered" in fired
        assert round_at(1_015.0) == 0
        assert round_at(2_000.0) == 0
        client.delete("dramatiq:events.XQ")
        assert round_at(2_015.0) == 1
        assert "[RESOLVED]" in sink.texts[1]
        assert "dead_letters" in sink.texts[1]
        assert len(sink.bodies) == 2

    def test_flapping_is_rate_limited_and_ends_told(
        self, sink: SlackSink, round_at: Round, sqlite_engine: Engine
    ) -> None:
        """Failed events rising fire; the condition ends within the interval of that post:
        its end is posted once the interval has passed, not before and not never."""
        add_event(sqlite_engine, "failed")
        assert round_at(1_000.0) == 0  # the first sample: nothing to compare with yet
        add_event(sqlite_engine, "failed")
        assert round_at(1_015.0) == 1
        assert "events_failing" in sink.texts[0]
        # The failed events are run again (no longer failed): the condition ends 85 s after
        # the post, inside the 300 s interval, so its end waits (and is not dropped) ...
        settle_all(sqlite_engine, "processed")
        assert round_at(1_100.0) == 0
        assert round_at(1_200.0) == 0
        # ... until the interval has passed.
        assert round_at(1_316.0) == 1
        assert len(sink.bodies) == 2
        assert "[RESOLVED]" in sink.texts[-1]

    def test_a_failed_post_is_tried_again_and_no_secret_logged(
        self, sink: SlackSink, round_at: Round, redis_url: str
    ) -> None:
        """The receiver answers 500: nothing is recorded as told, the next round posts it;
        the URL (Slack's secret path) is in no log line."""
        redis_client(redis_url).zadd("dramatiq:jobs.XQ", {"m1": 1})
        sink.status = 500
        with capture_logs() as logs:
            assert round_at(1_000.0) == 0
        assert sink.bodies == []
        assert any(entry["event"] == "alert.post_failed" for entry in logs)
        assert sink.url.split("/services/")[1] not in repr(logs)
        sink.status = 200
        assert round_at(1_015.0) == 1
        assert "dead_letters" in sink.texts[0]

    def test_a_metadata_address_is_refused(
        self, sqlite_engine: Engine, sqlite_url: str, redis_url: str
    ) -> None:
        """The SSRF rules of notifications: a link-local (cloud metadata) URL is never
        posted to, and the refusal names no secret."""
        url = "http://169.254.169.254/services/secret-path"
        settings = make_settings(sqlite_url, redis_url, alert_webhook_url=url)
        redis_client(redis_url).zadd("dramatiq:jobs.XQ", {"m1": 1})
        with capture_logs() as logs:
            assert Round(settings, sqlite_engine, redis_url)(1_000.0) == 0
        [refused] = [entry for entry in logs if entry["event"] == "alert.url_refused"]
        assert "secret-path" not in repr(refused)


class TestConfiguration:
    def test_an_unusable_url_stops_the_start(self, sqlite_url: str, redis_url: str) -> None:
        """A URL that is not plain http(s): a ConfigurationError that does not repeat it."""
        url = "ftp://hooks.example/services/secret-path"
        settings = make_settings(sqlite_url, redis_url, alert_webhook_url=url)
        with pytest.raises(ConfigurationError) as raised, httpx.Client() as http:
            AlertNotifier(settings, AlertStore(redis_client(redis_url)), http)
        assert "ALERT_WEBHOOK_URL" in str(raised.value)
        assert "secret-path" not in str(raised.value)


class TestSeveralSweepers:
    def test_one_round_is_told_once(
        self, sink: SlackSink, sqlite_engine: Engine, sqlite_url: str, redis_url: str
    ) -> None:
        """Two sweepers in the same round: one takes the lock and posts, the other skips."""
        settings = make_settings(sqlite_url, redis_url, alert_webhook_url=sink.url)
        client = redis_client(redis_url)
        client.zadd("dramatiq:events.XQ", {"m1": 1})
        signals = read_signals(settings, sqlite_engine, client)
        with httpx.Client(timeout=5) as http:
            first, second = (
                AlertNotifier(settings, AlertStore(client), http, clock=lambda: 1_000.0)
                for _ in range(2)
            )
            assert first.round(signals).sent == 1
            assert second.round(signals).sent == 0
        assert len(sink.bodies) == 1
