"""One `POST /v1/generations` in flight per workspace, so a lost answer can be matched.

A generation is matched to a submission of unknown outcome by when it was made. Two POSTs
in flight together would share that window and neither could be told apart; passing the
gate one at a time keeps the windows apart (a POST takes milliseconds, the budget allows
one a second, so nothing waits that would not wait for the budget anyway). The gate is a
Redis key held from the intent to the recorded answer; if its holder dies, it expires once
the holder's window has closed, and the next submission goes.

The threads of one process queue for it on a lock of their own first, so a thread waiting
behind its neighbour goes the moment the neighbour leaves, instead of at its next poll of
Redis: at 20 submissions/s the 20 ms poll left the gate idle for up to 20 ms of every 50,
and the submissions (so the upstream's webhooks) fell behind and came in bursts. Only a
holder in another process is waited for by polling.
"""

from __future__ import annotations

import math
import threading
import time
import uuid

import redis

POLL_SECONDS = 0.02

# KEYS: [gate]; ARGV: [token]. Deletes the gate only if this holder still holds it.
_LEAVE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


class SubmissionGate:
    """Held by at most one submission of a workspace at a time."""

    def __init__(self, client: redis.Redis, workspace: str, hold_seconds: float) -> None:
        self._client = client
        self._key = f"voicehook:submission-gate:{workspace}"
        self._hold_ms = max(1, math.ceil(hold_seconds * 1000))
        self._leave = client.register_script(_LEAVE)
        self._turn = threading.Lock()  # this process's threads, one at a time
        self._turn_token: str | None = None  # the token of the thread holding `_turn`

    def enter(self, max_wait_seconds: float) -> str | None:
        """Hold the gate (a token to leave it with), waiting up to `max_wait_seconds`."""
        token = uuid.uuid4().hex
        deadline = time.monotonic() + max_wait_seconds
        if not self._turn.acquire(timeout=max(0.0, max_wait_seconds)):
            return None
        try:
            while True:
                if self._client.set(self._key, token, nx=True, px=self._hold_ms):
                    self._turn_token = token
                    return token
                if time.monotonic() >= deadline:
                    break
                time.sleep(POLL_SECONDS)
        except BaseException:
            self._turn.release()
            raise
        self._turn.release()
        return None

    def leave(self, token: str) -> None:
        try:
            self._leave(keys=[self._key], args=[token])
        finally:
            if self._turn_token == token:
                self._turn_token = None
                self._turn.release()
