"""The Dramatiq broker on Redis, built from settings before any actor module is imported."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import uuid4

import dramatiq
import redis
from dramatiq.brokers.redis import RedisBroker
from dramatiq.common import current_millis
from dramatiq.middleware import (
    AgeLimit,
    Callbacks,
    CurrentMessage,
    Pipelines,
    Retries,
    ShutdownNotifications,
    TimeLimit,
)

from config.errors import BrokerUnavailable, ConfigurationError
from config.queues import EVENTS_QUEUE, JOBS_QUEUE, PROCESS_EVENT_ACTOR, SUBMIT_JOB_ACTOR
from config.settings import Settings


class BatchingRedisBroker(RedisBroker):
    """A RedisBroker that can enqueue many messages in one pipelined round trip."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)  # type: ignore[no-untyped-call]

    def enqueue_batch(self, messages: Sequence[dramatiq.Message[Any]]) -> None:
        """Enqueue `messages` with one network round trip, running the same middleware hooks."""
        prepared = []
        for message in messages:
            # Same as RedisBroker.enqueue: each enqueue needs its own Redis-side id.
            copy = message.copy(options={"redis_message_id": str(uuid4())})
            self.emit_before("enqueue", copy, None)
            prepared.append(copy)
        dispatch = self.scripts["dispatch"]
        unpack_size = self._max_unpack_size()  # type: ignore[no-untyped-call]
        with self.client.pipeline(transaction=False) as pipe:
            for message in prepared:
                dispatch(
                    keys=[self.namespace],
                    args=[
                        "enqueue",
                        current_millis(),
                        message.queue_name,
                        self.broker_id,
                        self.heartbeat_timeout,
                        self.dead_message_ttl,
                        0,  # no queue maintenance on the hot path; consumers do it
                        unpack_size,
                        message.options["redis_message_id"],
                        message.encode(),
                    ],
                    client=pipe,
                )
            pipe.execute()
        for message in prepared:
            self.emit_after("enqueue", message, None)


def redis_client(url: str) -> redis.Redis:
    """A Redis client with timeouts short enough that a dead Redis is noticed, not waited on."""
    return redis.Redis.from_url(
        url,
        socket_connect_timeout=2,
        socket_timeout=5,
        health_check_interval=30,
        retry_on_timeout=False,
    )


def build_broker(settings: Settings) -> BatchingRedisBroker:
    """Build the broker from `REDIS_URL` with an explicit middleware list, and set it global."""
    if not settings.redis_url:
        raise ConfigurationError(
            "REDIS_URL is not set. Point it at Redis, or run `voicehook dev`, "
            "which starts an embedded Redis under ./var/."
        )
    broker = BatchingRedisBroker(
        client=redis_client(settings.redis_url),
        middleware=[
            AgeLimit(),
            TimeLimit(),
            ShutdownNotifications(),
            Callbacks(),
            Pipelines(),
            Retries(max_retries=20, min_backoff=1_000, max_backoff=300_000),
            CurrentMessage(),
        ],
    )
    broker.declare_queue(EVENTS_QUEUE)
    broker.declare_queue(JOBS_QUEUE)
    dramatiq.set_broker(broker)
    return broker


def process_event_message(event_id: str) -> dramatiq.Message[Any]:
    """The message that asks a worker to process one stored event (ids only, never payloads)."""
    return dramatiq.Message(
        queue_name=EVENTS_QUEUE,
        actor_name=PROCESS_EVENT_ACTOR,
        args=(event_id,),
        kwargs={},
        options={},
    )


def submit_job_message(job_id: str) -> dramatiq.Message[Any]:
    """The message that asks a worker to submit a job's next attempt to the API."""
    return dramatiq.Message(
        queue_name=JOBS_QUEUE, actor_name=SUBMIT_JOB_ACTOR, args=(job_id,), kwargs={}, options={}
    )


def enqueue_submissions(broker: BatchingRedisBroker, job_ids: Sequence[str]) -> None:
    """Enqueue one `submit_job` message per job id, in one round trip."""
    if not job_ids:
        return
    try:
        broker.enqueue_batch([submit_job_message(job_id) for job_id in job_ids])
    except redis.RedisError as exc:
        raise BrokerUnavailable(f"could not enqueue {len(job_ids)} job(s): {exc}") from exc


def schedule_submission(broker: BatchingRedisBroker, job_id: str, delay_seconds: float) -> None:
    """Enqueue a job's submission to run after `delay_seconds`."""
    try:
        broker.enqueue(submit_job_message(job_id), delay=max(0, int(delay_seconds * 1000)))
    except redis.RedisError as exc:
        raise BrokerUnavailable(f"could not schedule job {job_id}: {exc}") from exc


def enqueue_events(broker: BatchingRedisBroker, event_ids: Sequence[str]) -> None:
    """Enqueue one `process_event` message per id, in one round trip."""
    if not event_ids:
        return
    try:
        broker.enqueue_batch([process_event_message(event_id) for event_id in event_ids])
    except redis.RedisError as exc:
        raise BrokerUnavailable(f"could not enqueue {len(event_ids)} event(s): {exc}") from exc


def ping(broker: BatchingRedisBroker) -> bool:
    """Whether the broker answers right now."""
    try:
        return bool(broker.client.ping())
    except redis.RedisError:
        return False
