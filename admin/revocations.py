"""Sessions ended by logging out, kept in Redis (shared by every web process) until the
cookie that carried them would have expired anyway."""

from __future__ import annotations

import redis

PREFIX = "voicehook:admin:revoked:"


class Revocations:
    def __init__(self, client: redis.Redis, lifetime_seconds: int) -> None:
        self._client = client
        self._lifetime = lifetime_seconds

    def revoke(self, sid: str) -> None:
        self._client.set(PREFIX + sid, b"1", ex=self._lifetime)

    def revoked(self, sid: str) -> bool:
        """Whether the session was ended; a RedisError propagates (the guard fails closed)."""
        return bool(self._client.exists(PREFIX + sid))
