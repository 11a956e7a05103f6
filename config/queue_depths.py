"""How many messages wait on each queue, and how many were dead-lettered, read from the keys
Dramatiq's Redis broker keeps (`<ns>:<queue>`, `.DQ` delayed, `.XQ` dead, `.msgs` bodies)."""

from __future__ import annotations

from dataclasses import dataclass

import redis

from config.queues import EVENTS_QUEUE, JOBS_QUEUE, NOTIFICATIONS_QUEUE

QUEUES = (EVENTS_QUEUE, JOBS_QUEUE, NOTIFICATIONS_QUEUE)


@dataclass(frozen=True, slots=True)
class QueueDepth:
    queue: str
    ready: int  # waiting for a worker
    delayed: int  # scheduled for later (retries, backoff)
    in_flight: int  # taken by a worker, not yet acknowledged
    dead: int  # dead-lettered: failed past their retries


def queue_depths(client: redis.Redis, namespace: str = "dramatiq") -> list[QueueDepth]:
    """Each queue's depth, in one round trip."""
    with client.pipeline(transaction=False) as pipe:
        for queue in QUEUES:
            base = f"{namespace}:{queue}"
            pipe.llen(base)
            pipe.hlen(f"{base}.msgs")
            pipe.llen(f"{base}.DQ")
            pipe.hlen(f"{base}.DQ.msgs")
            pipe.zcard(f"{base}.XQ")
        answers = [int(value) for value in pipe.execute()]
    found = []
    for index, queue in enumerate(QUEUES):
        ready, stored, delayed, delayed_stored, dead = answers[index * 5 : index * 5 + 5]
        in_flight = max(0, stored - ready) + max(0, delayed_stored - delayed)
        found.append(QueueDepth(queue, ready, delayed, in_flight, dead))
    return found
