"""Receiver fixtures: the receiver app in process (TestClient, lifespan), on a migrated database."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import orjson
import pytest
import redis
from sqlalchemy import Engine, select
from starlette.testclient import TestClient

from config.signing import SIGNATURE_HEADER, compute_signature
from records.envelope import parse_event
from records.event_store import Incoming
from records.events import DELIVERIES, EVENTS
from records.ids import new_id
from records.types import utcnow
from tests.conftest import OLD_SECRET, SECRET, make_settings
from tests.in_process import receiver_client
from tests.services import ServerProcess, start_receiver

WEBHOOK = "/webhooks/voiceproductionai"


def envelope(
    event: str = "generation.ready", resource_id: str | None = "gen-1", **data: object
) -> bytes:
    payload: dict[str, object] = dict(data)
    if resource_id is not None:
        payload["id"] = resource_id
    return orjson.dumps({"event": event, "timestamp": "2025-01-01T00:00:00.000Z", "data": payload})


def incoming(resource_id: str, event: str = "generation.ready") -> Incoming:
    """A verified delivery of `event` for `resource_id`, as the endpoint would build it."""
    body = envelope(event=event, resource_id=resource_id)
    return Incoming(
        event_id=new_id(),
        event=parse_event(body),
        body=body,
        headers={"content-type": "application/json"},
        remote_addr="127.0.0.1",
        secret_fingerprint="test",
        received_at=utcnow(),
    )


def signed_headers(body: bytes, secret: str = SECRET) -> dict[str, str]:
    return {
        SIGNATURE_HEADER: compute_signature(body, secret.encode()),
        "content-type": "application/json",
    }


def post(
    client: httpx.Client,
    body: bytes,
    secret: str = SECRET,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    """POST `body`, signed with `secret`, to the webhook of `client`'s receiver."""
    return client.post(
        WEBHOOK, content=body, headers=signed_headers(body, secret) | (headers or {})
    )


@contextmanager
def http_client(base_url: str) -> Iterator[httpx.Client]:
    """An HTTP client of a receiver served over a socket (a process, or uvicorn on a thread)."""
    with httpx.Client(base_url=base_url, timeout=30) as client:
        yield client


def events(engine: Engine) -> list[dict[str, object]]:
    with engine.connect() as conn:
        return [dict(row._mapping) for row in conn.execute(select(EVENTS))]


def deliveries(engine: Engine) -> list[dict[str, object]]:
    with engine.connect() as conn:
        return [
            dict(row._mapping) for row in conn.execute(select(DELIVERIES).order_by(DELIVERIES.c.id))
        ]


def as_text(raw: bytes | str) -> str:
    return raw.decode() if isinstance(raw, bytes) else raw


def enqueued_event_ids(redis_url: str) -> list[str]:
    """Event ids of the `process_event` messages waiting in the Dramatiq queue, in order."""
    client = redis.Redis.from_url(redis_url)
    ids = [as_text(raw) for raw in client.lrange("dramatiq:events", 0, -1)]
    messages = client.hmget("dramatiq:events.msgs", ids) if ids else []
    found = []
    for raw in messages:
        assert raw is not None
        message = orjson.loads(raw)
        assert message["actor_name"] == "process_event"
        found.append(str(message["args"][0]))
    return found


def receiver_env(database_url: str, redis_url: str, **extra: str) -> dict[str, str]:
    return {
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "VPAI_WEBHOOK_SECRETS": f"{SECRET},{OLD_SECRET}",
        **extra,
    }


@pytest.fixture
def receiver(database_url: str, redis_url: str, migrated_engine: Engine) -> Iterator[TestClient]:
    """The receiver app in process on the parametrised database and a real Redis."""
    with receiver_client(make_settings(database_url, redis_url)) as client:
        yield client


@pytest.fixture
def receiver_process(
    database_url: str, redis_url: str, migrated_engine: Engine, tmp_path: Path
) -> Iterator[ServerProcess]:
    """A receiver process (uvicorn and its writer) on the parametrised database and Redis."""
    server = start_receiver(receiver_env(database_url, redis_url), tmp_path / "receiver.log")
    yield server
    server.stop()
