"""The Dramatiq broker on Redis, built from settings before any actor module is imported."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from uuid import uuid4

import dramatiq
import orjson
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
from config.queue_wake import WakingRedisConsumer, wake_channel
from config.queues import (
    CLONE_VOICE_ACTOR,
    DELIVER_NOTIFICATION_ACTOR,
    EVENTS_QUEUE,
    JOBS_QUEUE,
    NOTIFICATIONS_QUEUE,
    PROCESS_EVENT_ACTOR,
    SUBMIT_JOB_ACTOR,
)
from config.redis_connection import redis_client
from config.settings import Settings
from config.trace_middleware import TraceMiddleware
from config.tracing import current_traceparent, trace_options, tracing_enabled

EnqueueIds = Callable[[Sequence[str]], None]  # enqueue one message per id, or BrokerUnavailable
# The same, given the `traceparent` each id's message carries (by id; may be empty).
EnqueueTraced = Callable[[Sequence[str], Mapping[str, str] | None], None]


class BatchingRedisBroker(RedisBroker):
    """A RedisBroker that can enqueue many id-carrying messages in one round trip.

    `enqueue_ids` writes exactly what `RedisBroker.enqueue` writes — each message's JSON in
    the queue's `.msgs` hash and its id on the queue's list — for a whole batch in one
    MULTI/EXEC, with the JSON built directly instead of through `Message` objects. It skips
    the enqueue hooks of middleware; none of the middleware `build_broker` installs has any.

    Every enqueue of a message that is due at once also publishes on the queue's wake
    channel, and its consumers wait on that channel between empty fetches instead of
    sleeping (`config.queue_wake`).
    """

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)  # type: ignore[no-untyped-call]

    @property
    def consumer_class(self) -> type[WakingRedisConsumer]:
        return WakingRedisConsumer

    def enqueue(
        self, message: dramatiq.Message[Any], *, delay: int | None = None
    ) -> dramatiq.Message[Any]:
        enqueued: dramatiq.Message[Any] = super().enqueue(message, delay=delay)
        if delay is None:
            # Enqueued: a lost wake-up costs a consumer's backoff at most, never the message.
            with contextlib.suppress(redis.RedisError):
                channel = wake_channel(self.client, self.namespace, message.queue_name)
                self.client.publish(channel, b"")
        return enqueued

    def enqueue_ids(
        self,
        queue_name: str,
        actor_name: str,
        args: Sequence[str],
        traces: Mapping[str, str] | None = None,
    ) -> list[str]:
        """Enqueue `actor_name(arg)` for each arg on `queue_name`; returns the message ids.

        `traces` maps an arg to the `traceparent` its message carries (config/tracing.py)."""
        now = current_millis()
        messages: dict[str, bytes] = {}
        for arg in args:
            message_id = str(uuid4())
            options: dict[str, object] = {"redis_message_id": message_id}
            if traces and (traceparent := traces.get(arg)):
                options.update(trace_options(traceparent))
            messages[message_id] = orjson.dumps(
                {
                    "queue_name": queue_name,
                    "actor_name": actor_name,
                    "args": [arg],
                    "kwargs": {},
                    "options": options,
                    "message_id": message_id,
                    "message_timestamp": now,
                }
            )
        queue_key = f"{self.namespace}:{queue_name}"
        with self.client.pipeline(transaction=True) as pipe:
            pipe.hset(f"{queue_key}.msgs", mapping=messages)  # type: ignore[arg-type]
            pipe.rpush(queue_key, *messages)
            pipe.publish(wake_channel(self.client, self.namespace, queue_name), b"")
            pipe.execute()
        return list(messages)


def build_broker(settings: Settings) -> BatchingRedisBroker:
    """Build the broker from `REDIS_URL` with an explicit middleware list, and set it global."""
    if not settings.redis_url:
        raise ConfigurationError(
            "REDIS_URL is not set. Point it at Redis, or run `voicehook dev`, "
            "which starts an embedded Redis under ./var/."
        )
    middleware = [
        AgeLimit(),
        TimeLimit(),
        ShutdownNotifications(),
        Callbacks(),
        Pipelines(),
        Retries(max_retries=20, min_backoff=1_000, max_backoff=300_000),
        CurrentMessage(),
    ]
    if tracing_enabled():  # configure_tracing ran first, and traces are on
        middleware.append(TraceMiddleware())
    broker = BatchingRedisBroker(
        client=redis_client(settings.redis_url),
        # A worker silent this long is dead: its unacknowledged messages go back on the queue.
        heartbeat_timeout=int(settings.broker_heartbeat_timeout_seconds * 1000),
        middleware=middleware,
    )
    broker.declare_queue(EVENTS_QUEUE)
    broker.declare_queue(JOBS_QUEUE)
    broker.declare_queue(NOTIFICATIONS_QUEUE)
    dramatiq.set_broker(broker)
    return broker


def submit_job_message(job_id: str) -> dramatiq.Message[Any]:
    """The message that asks a worker to submit a job's next attempt to the API."""
    return dramatiq.Message(
        queue_name=JOBS_QUEUE, actor_name=SUBMIT_JOB_ACTOR, args=(job_id,), kwargs={}, options={}
    )


def _enqueue(
    broker: BatchingRedisBroker,
    queue: str,
    actor: str,
    ids: Sequence[str],
    traces: Mapping[str, str] | None = None,
) -> None:
    if not ids:
        return
    if traces is None and (traceparent := current_traceparent()):
        traces = dict.fromkeys(ids, traceparent)  # enqueued within a traced operation
    try:
        broker.enqueue_ids(queue, actor, ids, traces)
    except redis.RedisError as exc:
        raise BrokerUnavailable(f"could not enqueue {len(ids)} {actor} message(s): {exc}") from exc


def enqueue_events(
    broker: BatchingRedisBroker,
    event_ids: Sequence[str],
    traces: Mapping[str, str] | None = None,
) -> None:
    """Enqueue one `process_event` message per id, in one round trip; `traces` maps an id to
    the trace its message continues (the webhook request's)."""
    _enqueue(broker, EVENTS_QUEUE, PROCESS_EVENT_ACTOR, event_ids, traces)


def enqueue_submissions(broker: BatchingRedisBroker, job_ids: Sequence[str]) -> None:
    """Enqueue one `submit_job` message per job id, in one round trip."""
    _enqueue(broker, JOBS_QUEUE, SUBMIT_JOB_ACTOR, job_ids)


def enqueue_clone(broker: BatchingRedisBroker, voice_id: str) -> None:
    """Enqueue the upload-then-clone work of one local voice."""
    _enqueue(broker, JOBS_QUEUE, CLONE_VOICE_ACTOR, [voice_id])


def schedule_submission(broker: BatchingRedisBroker, job_id: str, delay_seconds: float) -> None:
    """Enqueue a job's submission to run after `delay_seconds`."""
    try:
        broker.enqueue(submit_job_message(job_id), delay=max(0, int(delay_seconds * 1000)))
    except redis.RedisError as exc:
        raise BrokerUnavailable(f"could not schedule job {job_id}: {exc}") from exc


def enqueue_notifications(broker: BatchingRedisBroker, delivery_ids: Sequence[str]) -> None:
    """Enqueue one `deliver_notification` message per delivery id, in one round trip."""
    _enqueue(broker, NOTIFICATIONS_QUEUE, DELIVER_NOTIFICATION_ACTOR, delivery_ids)


def schedule_notification(
    broker: BatchingRedisBroker, delivery_id: str, delay_seconds: float
) -> None:
    """Enqueue a delivery's next try to run after `delay_seconds`."""
    message: dramatiq.Message[Any] = dramatiq.Message(
        queue_name=NOTIFICATIONS_QUEUE,
        actor_name=DELIVER_NOTIFICATION_ACTOR,
        args=(delivery_id,),
        kwargs={},
        options={},
    )
    try:
        broker.enqueue(message, delay=max(0, int(delay_seconds * 1000)))
    except redis.RedisError as exc:
        raise BrokerUnavailable(f"could not schedule delivery {delivery_id}: {exc}") from exc


def ping(broker: BatchingRedisBroker) -> bool:
    """Whether the broker answers right now."""
    try:
        return bool(broker.client.ping())
    except redis.RedisError:
        return False
