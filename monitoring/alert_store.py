"""The alerts' durable state in Redis: what was told (so a restarted sweeper does not tell
it again), the samples "rising" is judged from, and the lock several sweepers take turns
under. `voicehook status` reads the history; `alert_webhook` tells."""

from __future__ import annotations

import socket
from dataclasses import dataclass

import orjson
import redis

from monitoring.alert_rules import Alert, Notified, Sample

STATE_KEY = "voicehook:alerts:notified"
HISTORY_KEY = "voicehook:alerts:samples"
LOCK_KEY = "voicehook:alerts:lock"
MAX_SAMPLES = 500  # a bound on the history whatever the interval


@dataclass(frozen=True)
class AlertStore:
    """The alerts' durable state in Redis."""

    client: redis.Redis

    def notified(self) -> dict[Alert, Notified]:
        found: dict[bytes, bytes] = self.client.hgetall(STATE_KEY)  # type: ignore[assignment]
        states = {}
        known = {alert.value for alert in Alert}
        for name, raw in found.items():
            key = name.decode()
            if key in known:
                value = orjson.loads(raw)
                states[Alert(key)] = Notified(bool(value["active"]), float(value["sentAt"]))
        return states

    def record(self, alert: Alert, state: Notified) -> None:
        value = orjson.dumps({"active": state.active, "sentAt": state.sent_at})
        self.client.hset(STATE_KEY, alert.value, value)

    def history(self) -> list[Sample]:
        raw: list[bytes] = self.client.lrange(HISTORY_KEY, 0, -1)  # type: ignore[assignment]
        samples = []
        for item in raw:
            value = orjson.loads(item)
            samples.append(Sample(float(value["at"]), int(value["failed"]), int(value["backlog"])))
        return samples

    def keep(self, history: list[Sample]) -> None:
        kept = history[-MAX_SAMPLES:]
        with self.client.pipeline(transaction=True) as pipe:
            pipe.delete(HISTORY_KEY)
            if kept:
                pipe.rpush(
                    HISTORY_KEY,
                    *(orjson.dumps({"at": s.at, "failed": s.failed, "backlog": s.backlog})
                      for s in kept),
                )  # fmt: skip
            pipe.execute()

    def lock(self, seconds: float) -> bool:
        """Take the evaluation for `seconds` (another sweeper's round skips it meanwhile)."""
        return bool(
            self.client.set(LOCK_KEY, socket.gethostname(), nx=True, px=int(seconds * 1000))
        )
