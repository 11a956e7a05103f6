"""The batching broker writes messages a stock Dramatiq worker consumes."""

from __future__ import annotations

import threading

import dramatiq
import pytest
import redis
from dramatiq import Worker

from config.broker import build_broker, enqueue_events, enqueue_submissions, ping
from config.errors import BrokerUnavailable, ConfigurationError
from config.queue_wake import WakingRedisConsumer, wake_channel
from config.queues import EVENTS_QUEUE, JOBS_QUEUE, PROCESS_EVENT_ACTOR, SUBMIT_JOB_ACTOR
from config.settings import Settings
from tests.waiting import wait_until
from voicehook.redis_server import RedisServer


class TestBatchingBroker:
    def test_a_stock_worker_runs_every_batched_message_once(self, redis_url: str) -> None:
        """500 event ids and 3 job ids enqueued in batches reach real actors exactly once."""
        broker = build_broker(Settings.model_validate({"redis_url": redis_url}))
        seen: list[tuple[str, str]] = []
        done = threading.Event()
        lock = threading.Lock()

        def record(kind: str, value: str) -> None:
            with lock:
                seen.append((kind, value))
                if len(seen) == 503:
                    done.set()

        @dramatiq.actor(broker=broker, actor_name=PROCESS_EVENT_ACTOR, queue_name=EVENTS_QUEUE)
        def process_event(event_id: str) -> None:
            record("event", event_id)

        @dramatiq.actor(broker=broker, actor_name=SUBMIT_JOB_ACTOR, queue_name=JOBS_QUEUE)
        def submit_job(job_id: str) -> None:
            record("job", job_id)

        events = [f"e{n}" for n in range(500)]
        enqueue_events(broker, events[:250])
        enqueue_events(broker, events[250:])
        enqueue_submissions(broker, ["j1", "j2", "j3"])
        worker = Worker(broker, worker_threads=4, worker_timeout=100)
        worker.start()
        try:
            assert done.wait(30)
        finally:
            worker.stop()
        assert sorted(v for k, v in seen if k == "event") == sorted(events)
        assert sorted(v for k, v in seen if k == "job") == ["j1", "j2", "j3"]

    def test_a_dead_redis_is_broker_unavailable(self, private_redis: RedisServer) -> None:
        """With Redis stopped, enqueueing raises BrokerUnavailable and ping says False."""
        broker = build_broker(Settings.model_validate({"redis_url": private_redis.url}))
        private_redis.stop()
        with pytest.raises(BrokerUnavailable):
            enqueue_events(broker, ["e1"])
        assert not ping(broker)

    def test_no_redis_url_is_a_configuration_error(self) -> None:
        """build_broker says how to get a Redis when REDIS_URL is missing."""
        with pytest.raises(ConfigurationError, match="voicehook dev"):
            build_broker(Settings.model_validate({"redis_url": None}))


class TestWakingConsumer:
    @pytest.mark.parametrize("how", ["batch", "single"])
    def test_an_idle_consumer_is_woken_by_an_enqueue(self, redis_url: str, how: str) -> None:
        """A consumer backed off to minutes of sleep fetches a message enqueued meanwhile at
        once, whether it came in a batch (`enqueue_ids`) or alone (`Broker.enqueue`)."""
        broker = build_broker(Settings.model_validate({"redis_url": redis_url}))
        consumer = broker.consume(EVENTS_QUEUE, prefetch=1, timeout=600_000)
        assert isinstance(consumer, WakingRedisConsumer)
        got: list[list[str]] = []

        def consume() -> None:
            for message in consumer:
                if message is None:
                    continue
                got.append(list(message.args))
                consumer.ack(message)  # type: ignore[no-untyped-call]
                consumer.misses = 30  # its next empty fetch sleeps 5 to 10 minutes
                if len(got) == 2:
                    return

        def enqueue(event_id: str) -> None:
            if how == "batch":
                enqueue_events(broker, [event_id])
                return
            broker.enqueue(
                dramatiq.Message(
                    queue_name=EVENTS_QUEUE,
                    actor_name=PROCESS_EVENT_ACTOR,
                    args=(event_id,),
                    kwargs={},
                    options={},
                )
            )

        thread = threading.Thread(target=consume, daemon=True)
        thread.start()
        try:
            enqueue("e0")
            wait_until(lambda: got, description="the first message fetched")
            enqueue("e1")  # the consumer is fetching in vain, or already asleep
            wait_until(lambda: len(got) == 2, description="the second message fetched")
        finally:
            consumer.close()
        assert got == [["e0"], ["e1"]]

    def test_wake_channels_are_per_database(self, redis_url: str) -> None:
        """Two databases of one server never share a queue's wake channel."""
        first = redis.Redis.from_url(redis_url)
        kwargs = first.connection_pool.connection_kwargs
        other_db = (int(kwargs.get("db", 0)) + 1) % 16  # another than the test's, whichever
        other = redis.Redis(connection_pool=redis.ConnectionPool(**{**kwargs, "db": other_db}))
        assert wake_channel(first, "dramatiq", EVENTS_QUEUE) != wake_channel(
            other, "dramatiq", EVENTS_QUEUE
        )
