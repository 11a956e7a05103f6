"""The dashboard in process: a TestClient of the whole receiver app, and a logged-in one."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from starlette.testclient import TestClient

from tests.conftest import make_settings
from tests.in_process import receiver_client

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
