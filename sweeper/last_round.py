"""What the sweeper did last, kept in Redis for the dashboard: when its last round ended and
which chores found work in it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import redis
import structlog

KEY = "voicehook:sweeper:last_round"
KEEP_SECONDS = 24 * 3600
log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class LastRound:
    at: datetime
    busy: list[str]  # the chores that found something to do
    failed: list[str]  # the chores that raised


class RoundRecorder:
    """Writes each round's outcome; a Redis failure is logged, never stops the sweeper."""

    def __init__(self, client: redis.Redis) -> None:
        self._client = client

    def __call__(self, busy: list[str], failed: list[str]) -> None:
        value = {
            "at": datetime.now(UTC).isoformat(),
            "busy": ",".join(busy),
            "failed": ",".join(failed),
        }
        try:
            with self._client.pipeline(transaction=True) as pipe:
                pipe.hset(KEY, mapping=value)  # type: ignore[arg-type]
                pipe.expire(KEY, KEEP_SECONDS)
                pipe.execute()
        except redis.RedisError as exc:
            log.warning("sweeper.round_not_recorded", error=str(exc))


def read_last_round(client: redis.Redis) -> LastRound | None:
    found = {k.decode(): v.decode() for k, v in client.hgetall(KEY).items()}  # type: ignore[union-attr]
    if "at" not in found:
        return None
    return LastRound(
        at=datetime.fromisoformat(found["at"]),
        busy=[name for name in found.get("busy", "").split(",") if name],
        failed=[name for name in found.get("failed", "").split(",") if name],
    )
