"""Lists with keyset pagination and filters, job actions over HTTP, and the one error shape."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta

import orjson
import pytest
from sqlalchemy import Engine, update
from starlette.testclient import TestClient

from records.jobs import JOBS
from records.submission_repo import start_submission
from records.types import utcnow
from tests.ops.conftest import run_cli
from tests.ops.test_job_actions import failed_job
from tests.receiver.test_api_intake import served_api
from tests.receiver.test_internal_api import AUTH, api, job_body, submissions_queued

__all__ = ["api", "served_api"]  # fixtures shared with the other API tests


def walk(
    api: TestClient, path: str, between_pages: Callable[[], object] = list, **params: str
) -> list[str]:
    """Every id a list shows, page after page, following nextCursor."""
    seen: list[str] = []
    cursor = None
    while True:
        between_pages()
        query = {**params, **({"cursor": cursor} if cursor else {})}
        page = api.get(path, params=query, headers=AUTH)
        assert page.status_code == 200, page.text
        seen.extend(item["id"] for item in page.json()["items"])
        cursor = page.json()["nextCursor"]
        if cursor is None:
            return seen


def add_jobs(api: TestClient, count: int, **overrides: object) -> list[str]:
    return [
        api.post("/api/jobs", json=job_body(**overrides), headers=AUTH).json()["id"]
        for _ in range(count)
    ]


class TestPagination:
    def test_walk_sees_every_row_once_while_rows_are_inserted(
        self, api: TestClient, migrated_engine: Engine
    ) -> None:
        """Pages of 3 over 25 jobs while jobs are added before every page and by another
        thread: each job that existed when the walk began is seen exactly once, none twice."""
        api.post("/api/customers", json={"externalRef": "acme", "name": "Acme"}, headers=AUTH)
        existing = add_jobs(api, 25)
        with migrated_engine.begin() as conn:  # several jobs on one instant: ties on created_at
            conn.execute(update(JOBS).where(JOBS.c.id.in_(existing[5:12])).values(
                created_at=utcnow() - timedelta(minutes=5)))  # fmt: skip
        stop = threading.Event()
        inserted: list[str] = []

        def insert_more() -> None:
            while not stop.is_set() and len(inserted) < 200:
                inserted.extend(add_jobs(api, 1))

        writer = threading.Thread(target=insert_more)
        writer.start()
        try:
            seen = walk(api, "/api/jobs", lambda: inserted.extend(add_jobs(api, 2)), limit="3")
        finally:
            stop.set()
            writer.join()
        assert len(seen) == len(set(seen))
        assert sorted(set(existing) & set(seen)) == sorted(existing)
        assert len(inserted) >= 2 * 9  # at least two before each of the 9 pages
        assert set(seen) <= set(existing) | set(inserted)

    def test_filters_by_customer_status_and_since(
        self, api: TestClient, migrated_engine: Engine
    ) -> None:
        """customer (id or ref), status and since narrow the list; newest first."""
        for ref in ("acme", "globex"):
            api.post("/api/customers", json={"externalRef": ref, "name": ref}, headers=AUTH)
        acme = add_jobs(api, 3)
        globex = add_jobs(api, 2, customerRef="globex")
        with migrated_engine.begin() as conn:
            conn.execute(update(JOBS).where(JOBS.c.id == acme[0]).values(status="failed"))
            conn.execute(update(JOBS).where(JOBS.c.id == acme[1]).values(
                created_at=utcnow() - timedelta(days=2)))  # fmt: skip
        assert walk(api, "/api/jobs", customer="globex") == list(reversed(globex))
        globex_id = api.get("/api/customers", headers=AUTH).json()["items"][0]["id"]
        assert walk(api, "/api/jobs", customer=globex_id) == list(reversed(globex))
        assert walk(api, "/api/jobs", status="failed") == [acme[0]]
        since = (utcnow() - timedelta(days=1)).isoformat()
        assert acme[1] not in walk(api, "/api/jobs", since=since)
        assert len(walk(api, "/api/jobs", since=since)) == 4

    def test_customers_and_voices_are_listed(self, api: TestClient) -> None:
        """Customers come with their usage; voices list (empty here) the same way."""
        for n in range(5):
            api.post("/api/customers", json={"externalRef": f"c{n}", "name": "C"}, headers=AUTH)
        listed = api.get("/api/customers", params={"limit": "2"}, headers=AUTH).json()
        assert len(listed["items"]) == 2
        assert listed["items"][0]["usage"]["jobsReady"] == 0
        assert len(walk(api, "/api/customers", limit="2")) == 5
        assert walk(api, "/api/voices") == []

    @pytest.mark.parametrize(
        ("params", "name"),
        [
            ({"limit": "0"}, "limit"),
            ({"limit": "201"}, "limit"),
            ({"limit": "ten"}, "limit"),
            ({"cursor": "not-a-cursor"}, "cursor"),
            ({"cursor": "x" * 300}, "cursor"),
            ({"status": "lost"}, "status"),
            ({"since": "yesterday"}, "since"),
            ({"since": "2026-01-01T00:00:00"}, "since"),
            ({"costumer": "acme"}, "costumer"),
        ],
    )
    def test_bad_parameters_are_400_naming_them(
        self, api: TestClient, params: dict[str, str], name: str
    ) -> None:
        """A bad limit, cursor, status or since, or a parameter the list does not take (a
        typo'd filter would widen the list), is a 400 that says which and why."""
        answer = api.get("/api/jobs", params=params, headers=AUTH)
        assert answer.status_code == 400
        assert answer.json()["error"] == "invalid_parameter"
        assert answer.json()["detail"].startswith(f"{name}:")


class TestJobActionsOverHttp:
    def test_retry_and_resume_answer_as_the_cli_does(
        self, api: TestClient, migrated_engine: Engine, redis_url: str
    ) -> None:
        """POST …/retry moves a failed job (202, Location, the CLI's result document);
        again it is a 409 saying why; resume refuses a job that is not blocked."""
        job_id = failed_job(migrated_engine)
        retried = api.post(f"/api/jobs/{job_id}/retry", headers=AUTH)
        assert retried.status_code == 202
        assert retried.headers["location"] == f"/api/jobs/{job_id}"
        assert retried.json() == {
            "action": "retry",
            "jobs": [{"id": job_id, "outcome": "done", "reason": None}],
            "enqueued": True,
        }
        assert submissions_queued(redis_url) == [job_id]
        again = api.post(f"/api/jobs/{job_id}/retry", headers=AUTH)
        assert again.status_code == 409
        assert "already pending" in again.json()["detail"]
        resumed = api.post(f"/api/jobs/{job_id}/resume", headers=AUTH)
        assert resumed.status_code == 409
        assert api.post("/api/jobs/nope/retry", headers=AUTH).status_code == 404

    def test_cli_and_api_share_one_result(
        self, api: TestClient, migrated_engine: Engine, database_url: str, redis_url: str
    ) -> None:
        """A job retried by the CLI is refused by the API with the same reason the CLI gives."""
        job_id = failed_job(migrated_engine)
        env = {"DATABASE_URL": database_url, "REDIS_URL": redis_url}
        cli = run_cli("jobs", "retry", job_id, "--json", env=env)
        assert cli.returncode == 0, cli.stderr
        assert orjson.loads(cli.stdout)["jobs"][0]["outcome"] == "done"
        assert start_submission(migrated_engine, job_id) is not None  # a worker took it
        api_answer = api.post(f"/api/jobs/{job_id}/retry", headers=AUTH)
        cli_again = run_cli("jobs", "retry", job_id, "--json", env=env)
        assert api_answer.json()["detail"] == orjson.loads(cli_again.stdout)["jobs"][0]["reason"]


class TestErrorsAndRequestIds:
    def test_every_api_error_has_the_one_shape(self, api: TestClient) -> None:
        """401, 404 (route and resource), 405 and 400 all answer {error, detail}."""
        answers = [
            api.get("/api/jobs"),
            api.get("/api/jobs/missing", headers=AUTH),
            api.get("/api/nothing-here", headers=AUTH),
            api.delete("/api/jobs", headers=AUTH),
            api.post("/api/jobs", content=b"{", headers=AUTH),
        ]
        assert [a.status_code for a in answers] == [401, 404, 404, 405, 400]
        for answer in answers:
            assert set(answer.json()) >= {"error", "detail"}, answer.text

    def test_request_id_is_echoed_or_made(self, api: TestClient) -> None:
        """A sane X-Request-ID comes back; without one the answer carries a new one."""
        echoed = api.get("/api/jobs", headers={**AUTH, "x-request-id": "req-123"})
        assert echoed.headers["x-request-id"] == "req-123"
        assert api.get("/api/jobs", headers=AUTH).headers["x-request-id"]
