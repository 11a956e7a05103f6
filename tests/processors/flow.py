"""Driving the processors against a real sandbox: jobs in, events stored as the receiver would."""

from __future__ import annotations

from typing import Any

import httpx
import orjson
from sqlalchemy import ColumnElement, Engine, Row, select

from processors import dispatch
from processors.worker import ProcessorContext
from receiver.job_intake import create_job
from receiver.job_requests import JobRequest
from records.customer_repo import customer_by_ref, upsert_customer
from records.envelope import parse_event
from records.event_store import EventStore, Incoming
from records.events import EVENTS
from records.ids import new_id
from records.job_repo import find_job
from records.jobs import ATTEMPTS, JOBS, Attempt, Customer, Job
from records.types import utcnow
from sandbox.server import RunningSandbox
from sandbox.voices import DEFAULT_VOICE
from tests.waiting import wait_until


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

    def wait_until_settled(self, generation_id: str) -> dict[str, Any]:
        """The generation's document once it is ready or failed."""

        def settled() -> dict[str, Any] | None:
            document = self.generation(generation_id)
            return document if document["status"] in ("ready", "failed") else None

        return wait_until(settled, description=f"generation {generation_id} to settle")

    def make_generation(self, outcome: str = "ready", **fields: object) -> dict[str, Any]:
        """A generation made outside the API (this service never submitted it)."""
        response = self.control.post(
            "/generations", json={"outcome": outcome, "notify": False, **fields}
        )
        response.raise_for_status()
        document: dict[str, Any] = response.json()
        return self.wait_until_settled(document["id"])


def new_job(
    engine: Engine,
    script: str = "Hello from voicehook.",
    audio_format: str = "wav",
    voice_id: str = DEFAULT_VOICE.id,
) -> str:
    upsert_customer(engine, "acme", "Acme")
    request = JobRequest(customer_ref="acme", voice_id=voice_id, script=script, format=audio_format)
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
    found = find_job(engine, job_id)
    assert found is not None
    return found


def all_jobs(engine: Engine, *where: ColumnElement[bool]) -> list[Job]:
    """Every job (that meets `where`), oldest first."""
    query = select(JOBS).where(*where).order_by(JOBS.c.created_at, JOBS.c.id)
    with engine.connect() as conn:
        return [Job(**row) for row in conn.execute(query).mappings()]


def attempts(engine: Engine, job_id: str) -> list[Attempt]:
    query = select(ATTEMPTS).where(ATTEMPTS.c.job_id == job_id).order_by(ATTEMPTS.c.number)
    with engine.connect() as conn:
        return [Attempt(**row) for row in conn.execute(query).mappings()]


def customer(engine: Engine) -> Customer:
    found = customer_by_ref(engine, "acme")
    assert found is not None
    return found


def event(engine: Engine, event_id: str) -> Row[Any]:
    """The event's row (its columns as attributes)."""
    with engine.connect() as conn:
        found = conn.execute(select(EVENTS).where(EVENTS.c.id == event_id)).first()
    assert found is not None
    return found
