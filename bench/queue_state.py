"""Reading, checking and emptying the Dramatiq events queue the receiver enqueues into."""

from __future__ import annotations

import json

import redis

from bench.errors import BenchError
from bench.report import redact_url
from bench.verify import QueueState
from config.queues import EVENTS_QUEUE

# Dramatiq's RedisBroker keeps a queue as a list of message ids and a hash id -> message.
QUEUE_KEY = f"dramatiq:{EVENTS_QUEUE}"
MESSAGES_KEY = f"{QUEUE_KEY}.msgs"
HEARTBEATS_KEY = "dramatiq:__heartbeats__"  # every enqueue registers its broker here


def read_queue(url: str) -> QueueState:
    client = redis.Redis.from_url(url)
    try:
        length = int(client.llen(QUEUE_KEY))
        messages = client.hvals(MESSAGES_KEY)
    finally:
        client.close()
    event_ids = frozenset(str(json.loads(message)["args"][0]) for message in messages)
    return QueueState(length=length, stored_messages=len(messages), event_ids=event_ids)


def require_empty_queue(url: str, *, clear: bool) -> frozenset[bytes]:
    """Empty the events queue if asked to, else refuse a non-empty one; the brokers seen so far."""
    client = redis.Redis.from_url(url)
    try:
        brokers = _heartbeat_members(client)
        if clear:
            client.delete(QUEUE_KEY, MESSAGES_KEY)
        elif client.exists(QUEUE_KEY, MESSAGES_KEY):
            raise BenchError(
                f"{QUEUE_KEY} in {redact_url(url)} is not empty, so the bench could not tell its "
                "messages apart; point --redis-url at a database of its own "
                "(e.g. redis://host:6379/15) or pass --clear-queue to empty it"
            )
    finally:
        client.close()
    return brokers


def drop_queue(url: str, brokers_before: frozenset[bytes]) -> None:
    """Remove the bench's messages, so no worker ever processes them, and its brokers' marks."""
    client = redis.Redis.from_url(url)
    try:
        client.delete(QUEUE_KEY, MESSAGES_KEY)
        added = _heartbeat_members(client) - brokers_before
        if added:
            client.zrem(HEARTBEATS_KEY, *added)
    finally:
        client.close()


def _heartbeat_members(client: redis.Redis) -> frozenset[bytes]:
    members = client.zrange(HEARTBEATS_KEY, 0, -1)
    return frozenset(member for member in members if isinstance(member, bytes))
