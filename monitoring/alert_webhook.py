"""`ALERT_WEBHOOK_URL`: the sweeper tells a Slack-compatible webhook when an alert condition
starts and when it ends, without Prometheus.

What was told, and the samples "rising" is judged from, are kept in Redis (beside the budget
and the broker's queues), so a restarted sweeper does not tell again what it told before,
and several sweepers take turns under one lock instead of each telling it. The URL is a
secret (a Slack webhook's path is its credential): it is never logged, only its host.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx
import orjson
import structlog

from config.errors import ConfigurationError
from config.settings import Settings
from monitoring.alert_rules import (
    Notified,
    Thresholds,
    conditions,
    due,
    message,
    sample_of,
    within,
)
from monitoring.alert_store import AlertStore
from monitoring.signals import Signals
from processors.errors import DisallowedNotifyUrl
from processors.notify_http import post_notification
from processors.notify_urls import (
    allowed_notify_hosts,
    check_notify_url,
    parse_notify_url,
    resolve_addresses,
)

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class RoundResult:
    sent: int
    failed: int


class AlertNotifier:
    """One round: read the conditions, tell the webhook what changed, keep the state."""

    def __init__(
        self,
        settings: Settings,
        store: AlertStore,
        http: httpx.Client,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if settings.alert_webhook_url is None:
            raise ConfigurationError("ALERT_WEBHOOK_URL is not set")
        self._url = settings.alert_webhook_url.get_secret_value()
        try:
            parse_notify_url(self._url)
        except DisallowedNotifyUrl as exc:
            # The reason, never the URL: its path is the webhook's credential.
            raise ConfigurationError(f"ALERT_WEBHOOK_URL is not usable: {exc}") from None
        self._allowed = allowed_notify_hosts(settings.notify_allowed_hosts)
        self._store = store
        self._http = http
        self._clock = clock
        self._min_interval = settings.alert_min_interval_seconds
        self._thresholds = Thresholds(event_age_seconds=settings.alert_event_age_minutes * 60)
        # Held most of one round: several sweepers take turns, and the same sweeper finds it
        # free again at its next round.
        self._lock_seconds = max(1.0, settings.sweeper_interval_seconds * 0.8)
        self._deployment = settings.vpai_workspace or socket.gethostname()

    def round(self, signals: Signals) -> RoundResult:
        """Tell the webhook of each alert that started or ended."""
        if not self._store.lock(self._lock_seconds):
            return RoundResult(0, 0)
        now = self._clock()
        history = self._store.history()
        found = conditions(signals, history, now, self._thresholds)
        window = within(history, now, self._thresholds.window_seconds)
        self._store.keep([*window, sample_of(signals, now)])
        told = failed = 0
        for transition in due(found, self._store.notified(), now, self._min_interval):
            if not self._post(message(transition, self._deployment)):
                failed += 1  # told again next round: the state still says otherwise
                continue
            self._store.record(transition.alert, Notified(transition.condition.active, now))
            told += 1
            log.warning(
                "alert.notified",
                alert=transition.alert.value,
                active=transition.condition.active,
                summary=transition.condition.summary,
            )
        return RoundResult(told, failed)

    def _post(self, body: dict[str, str]) -> bool:
        try:
            url = check_notify_url(self._url, self._allowed, resolve_addresses)
        except DisallowedNotifyUrl as exc:
            log.error("alert.url_refused", reason=str(exc).replace(self._url, "<url>"))
            return False
        outcome = post_notification(
            self._http, url, orjson.dumps(body), {"Content-Type": "application/json"}
        )
        if not outcome.delivered:
            error = (outcome.error or "").replace(self._url, "<url>")
            log.warning("alert.post_failed", host=url.host, status=outcome.status_code, error=error)
        return outcome.delivered
