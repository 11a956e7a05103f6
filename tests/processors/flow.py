"""Driving the processors against a real sandbox: jobs in, events stored as the receiver would."""

from __future__ import annotations

import time
from typing import Any

import httpx
import orjson
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from processors import dispatch
from processors.worker import ProcessorContext
from receiver.job_intake import create_job
from receiver.job_requests import JobRequest
from records.customer_repo import upsert_customer
from records.envelope import parse_event
from records.event_store import EventStore, Incoming
from records.events import Event
from records.ids import new_id
from records.jobs import Attempt, Customer, Job
from records.types import utcnow
from sandbox.server import RunningSandbox
from sandbox.voices import DEFAULT_VOICE


class Sandbox:
    """The control side of a running sandbox."""

    def __init__(self, server: RunningSandbox) -> None:
        self.server = server
        self.control = httpx.Client(base_url=server.url + "/sandbox", trust_env=False, timeout=30)

    def reset(self) -> None:
        self.control.post("/reset").raise_for_status()

    def faults(self, **changes: object) -> None:
        self.control.patch("/faults", json=changes).raise_for_status()

    def set_workspace(self, **changes: object) -> None:
        self.control.patch("/workspaces/default", json=changes).raise_for_status()

    def workspace(self) -> dict[str, Any]:
        document: dict[str, Any] = self.control.get("/workspaces/default").json()
        return document

    def generation(self, generation_id: str) -> dict[str, Any]:
        document: dict[str, Any] = self.control.get(f"/generations/{generation_id}").json()
        return document

    def wait_until_settled(self, generation_id: str, timeout: float = 15.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            document = self.generation(generation_id)
            if document["status"] in ("ready", "failed"):
                return document
            time.sleep(0.05)
        raise AssertionError(f"generation {generation_id} did not settle in {timeout}s")

    def make_generation(self, outcome: str = "ready", **fields: object) -> dict[str, Any]:
        """A generation made outside the API (this service never submitted it)."""
        response = self.control.post(
            "/generations", json={"outcome": outcome, "notify": False, **fields}
        )
        response.raise_for_status()
        document: dict[str, Any] = response.json()
        return self.wait_until_settled(document["id"])


def new_job(
    engine: Engine, script: str = "Hello from voicehook.", audio_format: str = "wav"
) -> str:
    upsert_customer(engine, "acme", "Acme")
    request = JobRequest(
        customer_ref="acme", voice_id=DEFAULT_VOICE.id, script=script, format=audio_format
    )
    return create_job(engine, request, max_attempts=3).id


def store_event(engine: Engine, event_type: str, data: dict[str, Any]) -> str:
    """Store an event exactly as the receiver would on its first delivery; its id."""
    body = orjson.dumps(
        {
            "event": event_type,
            "timestamp": utcnow().isoformat().replace("+00:00", "Z"),
            "data": data,
        }
    )
    incoming = Incoming(
        event_id=new_id(),
        event=parse_event(body),
        body=body,
        headers={},
        remote_addr="127.0.0.1",
        secret_fingerprint="test",
        received_at=utcnow(),
    )
    [outcome] = EventStore(engine).persist([incoming])
    return outcome.event_id


def process(ctx: ProcessorContext, event_id: str) -> list[float]:
    """Run the worker's logic for one event; the delays it asked to be retried after."""
    delays: list[float] = []
    dispatch.process_event(ctx, event_id, delays.append)
    return delays


def job(engine: Engine, job_id: str) -> Job:
    with Session(engine) as session:
        found = session.get(Job, job_id)
        assert found is not None
        return found


def attempts(engine: Engine, job_id: str) -> list[Attempt]:
    with Session(engine) as session:
        return list(
            session.exec(
                select(Attempt).where(Attempt.job_id == job_id).order_by(col(Attempt.number))
            )
        )


def customer(engine: Engine) -> Customer:
    with Session(engine) as session:
        found = session.exec(select(Customer).where(Customer.external_ref == "acme")).first()
        assert found is not None
        return found


def event(engine: Engine, event_id: str) -> Event:
    with Session(engine) as session:
        found = session.get(Event, event_id)
        assert found is not None
        return found
