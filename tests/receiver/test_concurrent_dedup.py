"""Deduplication holds across several receivers sharing one database: each app (served on a
thread of its own) commits through its own engine, so their transactions race as separate
processes' would."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack

import httpx
import pytest
from sqlalchemy import Engine

from tests.conftest import make_settings
from tests.in_process import served_receiver
from tests.receiver.conftest import (
    WEBHOOK,
    deliveries,
    enqueued_event_ids,
    envelope,
    events,
    signed_headers,
)
from tests.services import wait_for

PROCESSES = 3


@pytest.fixture
def receivers(database_url: str, redis_url: str, migrated_engine: Engine) -> Iterator[list[str]]:
    """The base URLs of PROCESSES receivers on one database."""
    settings = make_settings(database_url, redis_url)
    with ExitStack() as stack:
        yield [stack.enter_context(served_receiver(settings)) for _ in range(PROCESSES)]


def post_all_at_once(targets: list[tuple[str, bytes]]) -> list[httpx.Response]:
    """POST every (url, body) from its own thread, released together by a barrier."""
    barrier = threading.Barrier(len(targets))

    def send(target: tuple[str, bytes]) -> httpx.Response:
        url, body = target
        with httpx.Client(timeout=30) as client:
            barrier.wait()
            return client.post(url + WEBHOOK, content=body, headers=signed_headers(body))

    with ThreadPoolExecutor(len(targets)) as pool:
        return list(pool.map(send, targets))


class TestConcurrentDedup:
    def test_identical_deliveries_to_several_processes_make_one_event(
        self, receivers: list[str], migrated_engine: Engine, redis_url: str
    ) -> None:
        """30 simultaneous copies over 3 processes: one 202, the rest duplicates of it."""
        body = envelope(resource_id="gen-race")
        responses = post_all_at_once([(receivers[i % PROCESSES], body) for i in range(30)])
        statuses = Counter(r.status_code for r in responses)
        assert statuses == {202: 1, 200: 29}
        assert len({r.json()["eventId"] for r in responses}) == 1
        [event] = events(migrated_engine)
        assert event["id"] == responses[0].json()["eventId"]
        assert len(deliveries(migrated_engine)) == 30
        wait_for(lambda: enqueued_event_ids(redis_url) == [event["id"]])

    def test_many_events_each_delivered_twice(
        self, receivers: list[str], migrated_engine: Engine, redis_url: str
    ) -> None:
        """40 events, each sent twice to different processes at once: 40 events, 40 enqueued."""
        targets = []
        for n in range(40):
            body = envelope(resource_id=f"gen-{n}")
            targets.append((receivers[n % PROCESSES], body))
            targets.append((receivers[(n + 1) % PROCESSES], body))
        responses = post_all_at_once(targets)
        assert Counter(r.status_code for r in responses) == {202: 40, 200: 40}
        stored = events(migrated_engine)
        assert len(stored) == 40
        assert len(deliveries(migrated_engine)) == 80
        expected = sorted(str(e["id"]) for e in stored)
        wait_for(lambda: sorted(enqueued_event_ids(redis_url)) == expected)
