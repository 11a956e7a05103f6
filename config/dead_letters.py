"""Dramatiq's dead-letter sets in Redis: the one module that reads and removes them.

Dramatiq's RedisBroker moves a message that ran out of retries to `<ns>:<queue>.XQ` (a
sorted set of message ids, scored by when they died, in ms) and its JSON to
`<ns>:<queue>.XQ.msgs` (a hash); its maintenance deletes them after 7 days. Every read here
is bounded: pages of ZRANGEBYSCORE / ZSCAN, never the whole set at once. Knows nothing of
events or jobs: a dead letter is an actor name and the one id it was given.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import islice
from typing import Any, cast

import orjson
import redis

from config.queues import EVENTS_QUEUE, JOBS_QUEUE, NOTIFICATIONS_QUEUE

NAMESPACE = "dramatiq"
QUEUES = (EVENTS_QUEUE, JOBS_QUEUE, NOTIFICATIONS_QUEUE)
PAGE = 200  # messages per Redis read
ERROR_CHARS = 300  # of the traceback's last line kept on a dead letter


def dead_letter_key(queue: str) -> str:
    """The sorted set of a queue's dead-lettered message ids."""
    return f"{NAMESPACE}:{queue}.XQ"


@dataclass(frozen=True)
class DeadLetter:
    """One dead-lettered message: who it was for, the id it carried, when it died."""

    queue: str
    message_id: str  # the id in the dead-letter set (Dramatiq's `redis_message_id`)
    actor: str
    entity_id: str | None  # the one argument our actors take (event/job/voice/delivery id)
    dead_at: datetime
    enqueued_at: datetime | None
    retries: int
    error: str | None  # the last line of the traceback Dramatiq kept, if any


def parse_dead_letter(queue: str, message_id: str, score: float, raw: bytes | None) -> DeadLetter:
    """A dead letter from its set entry and stored JSON (None or garbage: unknown actor)."""
    try:
        data = orjson.loads(raw) if raw is not None else {}
    except orjson.JSONDecodeError:
        data = {}
    if not isinstance(data, dict):
        data = {}
    args = data.get("args")
    entity = args[0] if isinstance(args, list) and args and isinstance(args[0], str) else None
    found_options = data.get("options")
    options: dict[str, Any] = found_options if isinstance(found_options, dict) else {}
    stamp = data.get("message_timestamp")
    traceback = options.get("traceback")
    lines = traceback.strip().splitlines() if isinstance(traceback, str) else []
    return DeadLetter(
        queue=queue,
        message_id=message_id,
        actor=str(data.get("actor_name") or "?"),
        entity_id=entity,
        dead_at=_from_millis(score),
        enqueued_at=_from_millis(stamp) if isinstance(stamp, int | float) else None,
        retries=int(options.get("retries") or 0),
        error=lines[-1][:ERROR_CHARS] if lines else None,
    )


def _from_millis(value: float) -> datetime:
    return datetime.fromtimestamp(value / 1000, UTC)


def _millis(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


class DeadLetters:
    """The dead-letter sets of one Redis, read in pages and removed by id."""

    def __init__(self, client: redis.Redis, page: int = PAGE) -> None:
        self.client = client
        self.page = page

    def count(self, queue: str) -> int:
        return int(self.client.zcard(dead_letter_key(queue)))

    def oldest_first(self, queue: str, *, before: datetime | None = None) -> Iterator[DeadLetter]:
        """The queue's dead letters, oldest first (those that died before `before`, if
        given), one page per round trip; removing what was yielded is safe meanwhile."""
        key = dead_letter_key(queue)
        high: float | str = "+inf" if before is None else _millis(before)
        low: float | str = "-inf"
        seen_at_low: set[str] = set()  # yielded, with the score the next page starts at
        while True:
            asked = self.page + len(seen_at_low)
            found = cast(
                "list[tuple[bytes, float]]",
                self.client.zrangebyscore(key, low, high, start=0, num=asked, withscores=True),
            )
            fresh = [(_text(m), s) for m, s in found if _text(m) not in seen_at_low]
            yield from self._load(queue, fresh)
            if len(found) < asked or not fresh:
                return  # a short page: nothing lies beyond it
            last = fresh[-1][1]
            if last != low:
                low, seen_at_low = last, set()
            seen_at_low.update(m for m, s in fresh if s == last)

    def find(self, queue: str, prefix: str, *, at_most: int = 2) -> list[DeadLetter]:
        """Up to `at_most` of the queue's dead letters whose id starts with `prefix` (ZSCAN,
        paged: two are enough to tell an ambiguous prefix)."""
        pattern = "".join(f"\\{c}" if c in "*?[]\\" else c for c in prefix) + "*"
        found = cast(
            "Iterator[tuple[bytes, float]]",
            self.client.zscan_iter(dead_letter_key(queue), match=pattern, count=self.page),
        )
        return self._load(queue, [(_text(m), s) for m, s in islice(found, at_most)])

    def remove(self, queue: str, message_ids: Sequence[str]) -> int:
        """Delete these dead letters (id and JSON, in one transaction); how many were there."""
        if not message_ids:
            return 0
        key = dead_letter_key(queue)
        with self.client.pipeline(transaction=True) as pipe:
            pipe.zrem(key, *message_ids)
            pipe.hdel(f"{key}.msgs", *message_ids)
            removed, _ = pipe.execute()
        return int(removed)

    def _load(self, queue: str, entries: Sequence[tuple[str, float]]) -> list[DeadLetter]:
        if not entries:
            return []
        bodies = cast(
            "list[bytes | None]",
            self.client.hmget(f"{dead_letter_key(queue)}.msgs", [m for m, _ in entries]),
        )
        return [
            parse_dead_letter(queue, m, s, raw) for (m, s), raw in zip(entries, bodies, strict=True)
        ]
