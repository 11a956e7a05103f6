"""The dashboard in process: a TestClient of the whole receiver app, and a logged-in one."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, select, update
from starlette.testclient import TestClient

from records.events import EVENTS
from records.jobs import JOBS
from tests.conftest import make_settings
from tests.in_process import receiver_client
from tests.receiver.conftest import WEBHOOK, envelope, signed_headers

TOKEN = "dashboard-token-for-tests"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@pytest.fixture
def dashboard(
    database_url: str, redis_url: str, migrated_engine: Engine, tmp_path: Path
) -> Iterator[TestClient]:
    """A client of the receiver app (dashboard included), not logged in."""
    settings = make_settings(
        database_url,
        redis_url,
        admin_token=TOKEN,
        audio_dir=str(tmp_path / "audio"),
        vpai_api_key="key-for-tests",
    )
    with receiver_client(settings) as client:
        yield client


def log_in(client: TestClient) -> str:
    """Log `client` in; the CSRF token its pages carry."""
    answer = client.post("/admin/login", data={"token": TOKEN}, follow_redirects=False)
    assert answer.status_code == 303, answer.text
    return csrf_of(client.get("/admin/").text)


def csrf_of(page: str) -> str:
    found = CSRF.search(page)
    assert found is not None, "no CSRF token on the page"
    return found.group(1)


@pytest.fixture
def admin(dashboard: TestClient) -> TestClient:
    """The dashboard's client, logged in (its CSRF token in `admin.headers['x-test-csrf']`)."""
    dashboard.headers["x-test-csrf"] = log_in(dashboard)
    return dashboard


API = {"authorization": f"Bearer {TOKEN}"}


def send_webhook(client: TestClient, event: str, resource_id: str, **data: object) -> str:
    """A signed webhook through the receiver; the id of the event it made."""
    body = envelope(event=event, resource_id=resource_id, **data)
    answer = client.post(WEBHOOK, content=body, headers=signed_headers(body))
    assert answer.status_code in (200, 202), answer.text
    return str(answer.json()["eventId"])


def set_event_status(engine: Engine, event_ids: list[str], status: str) -> None:
    with engine.begin() as conn:
        conn.execute(
            update(EVENTS)
            .where(EVENTS.c.id.in_(event_ids))
            .values(status=status, last_error="boom" if status == "failed" else None)
        )


def make_job(client: TestClient, engine: Engine, status: str | None = None) -> str:
    """A customer's job through the internal API, then put in `status` when given."""
    client.post("/api/customers", json={"externalRef": "acme", "name": "Acme"}, headers=API)
    answer = client.post(
        "/api/jobs",
        json={"customerRef": "acme", "voiceId": "voice-1", "script": "Hello.", "format": "wav"},
        headers=API,
    )
    assert answer.status_code == 202, answer.text
    job_id = str(answer.json()["id"])
    if status is not None:
        with engine.begin() as conn:
            conn.execute(
                update(JOBS)
                .where(JOBS.c.id == job_id)
                .values(status=status, last_error=f"made {status} by the test")
            )
    return job_id


def job_status(engine: Engine, job_id: str) -> str:
    with engine.connect() as conn:
        return str(conn.execute(select(JOBS.c.status).where(JOBS.c.id == job_id)).scalar())


def event_status(engine: Engine, event_id: str) -> str:
    with engine.connect() as conn:
        return str(conn.execute(select(EVENTS.c.status).where(EVENTS.c.id == event_id)).scalar())
