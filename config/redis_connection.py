"""The one way voicehook connects to Redis (the broker, the budget, the alerts, `status`),
apart from the broker's Dramatiq stack so that a read of Redis does not import it."""

from __future__ import annotations

import redis


def redis_client(url: str) -> redis.Redis:
    """A Redis client with timeouts short enough that a dead Redis is noticed, not waited on."""
    return redis.Redis.from_url(
        url,
        socket_connect_timeout=2,
        socket_timeout=5,
        health_check_interval=30,
        retry_on_timeout=False,
    )
