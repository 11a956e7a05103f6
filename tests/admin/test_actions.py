"""The dashboard's actions over HTTP: each does what its command does, and is audited."""

from __future__ import annotations

import re
from pathlib import Path

import orjson
from sqlalchemy import Engine, update
from starlette.testclient import TestClient

from records.audit import audit_page
from records.jobs import JOBS
from tests.admin.conftest import (
    event_status,
    job_status,
    make_job,
    send_webhook,
    set_event_status,
)
from tests.receiver.conftest import enqueued_event_ids
from tests.receiver.test_internal_api import submissions_queued


def post(admin: TestClient, path: str, **form: str) -> str:
    answer = admin.post(path, data={"csrf": admin.headers["x-test-csrf"], **form})
    assert answer.status_code == 200, answer.text
    return str(answer.text)


class TestEventActions:
    def test_reprocess_requeues_and_audits(
        self, admin: TestClient, migrated_engine: Engine, redis_url: str
    ) -> None:
        """Reprocess puts a failed event back on the queue once and writes who did it."""
        event_id = send_webhook(admin, "generation.failed", "gen-r")
        set_event_status(migrated_engine, [event_id], "failed")
        before = enqueued_event_ids(redis_url).count(event_id)
        page = post(admin, f"/admin/events/{event_id}/reprocess")
        assert "Queued for reprocessing." in page
        assert event_status(migrated_engine, event_id) == "queued"
        assert enqueued_event_ids(redis_url).count(event_id) == before + 1
        [entry] = [e for e in audit_page(migrated_engine, None, 10) if e.action != "login"]
        assert (entry.action, entry.target, entry.count, entry.outcome) == (
            "reprocess_event",
            event_id,
            1,
            "done",
        )
        assert entry.actor.startswith("admin (session ")

    def test_export_is_a_capture_file(self, admin: TestClient, migrated_engine: Engine) -> None:
        """Export answers the event's deliveries as JSONL captures with the exact body."""
        event_id = send_webhook(admin, "generation.failed", "gen-e", error="<b>x</b>")
        send_webhook(admin, "generation.failed", "gen-e", error="<b>x</b>")
        answer = admin.post(
            f"/admin/events/{event_id}/export", data={"csrf": admin.headers["x-test-csrf"]}
        )
        assert answer.status_code == 200
        assert answer.headers["content-disposition"].startswith("attachment")
        captures = [orjson.loads(line) for line in answer.content.splitlines()]
        assert [c["eventId"] for c in captures] == [event_id, event_id]
        assert '"error":"<b>x</b>"' in captures[0]["body"]
        [entry] = [e for e in audit_page(migrated_engine, None, 10) if e.action == "export_event"]
        assert entry.count == 2

    def test_bulk_reprocess_confirms_the_count_first(
        self, admin: TestClient, migrated_engine: Engine
    ) -> None:
        """The first POST only counts (nothing changes); the confirmed one requeues them."""
        failed = [send_webhook(admin, "generation.failed", f"gen-b{n}") for n in range(3)]
        other = send_webhook(admin, "voice.cloned", "clone-1")
        set_event_status(migrated_engine, [*failed, other], "failed")
        page = post(admin, "/admin/bulk/reprocess-events", type="generation.failed", since="1h")
        assert "Reprocess 3 failed events (type generation.failed, since 1h)?" in page
        assert all(event_status(migrated_engine, e) == "failed" for e in failed)
        assert 'name="confirm" value="3"' in page
        done = post(
            admin, "/admin/bulk/reprocess-events", type="generation.failed", since="1h", confirm="3"
        )
        assert "Requeued 3 failed events" in done
        assert all(event_status(migrated_engine, e) == "queued" for e in failed)
        assert event_status(migrated_engine, other) == "failed"
        [entry] = [e for e in audit_page(migrated_engine, None, 10) if e.action == "bulk_reprocess"]
        assert entry.count == 3
        assert entry.detail == "confirmed 3, skipped 0"

    def test_bulk_form_is_bounded(self, admin: TestClient) -> None:
        """A bulk form with a bad time or an oversized field is a 400 and does nothing."""
        for form in ({"since": "soon"}, {"type": "x" * 500}, {"confirm": "-1"}):
            answer = admin.post(
                "/admin/bulk/reprocess-events", data={"csrf": admin.headers["x-test-csrf"], **form}
            )
            assert answer.status_code == 400, form
        big = admin.post(
            "/admin/bulk/reprocess-events",
            data={"csrf": admin.headers["x-test-csrf"], "type": "a" * 10_000},
        )
        assert big.status_code == 413


class TestJobActions:
    def test_retry_a_failed_job(
        self, admin: TestClient, migrated_engine: Engine, redis_url: str
    ) -> None:
        """Retry moves a failed job to pending and enqueues its submission; audited."""
        job_id = make_job(admin, migrated_engine, status="failed")
        page = post(admin, f"/admin/jobs/{job_id}/retry")
        assert "Retried" in page
        assert job_status(migrated_engine, job_id) == "pending"
        assert submissions_queued(redis_url).count(job_id) == 2  # at creation, and the retry
        [entry] = [e for e in audit_page(migrated_engine, None, 10) if e.action == "retry_job"]
        assert (entry.target, entry.count, entry.outcome) == (job_id, 1, "done")

    def test_retry_of_a_job_that_did_not_fail_is_refused(
        self, admin: TestClient, migrated_engine: Engine
    ) -> None:
        """A ready job is not retried; the refusal is audited with its reason."""
        job_id = make_job(admin, migrated_engine, status="ready")
        page = post(admin, f"/admin/jobs/{job_id}/retry")
        assert "Nothing done" in page
        assert job_status(migrated_engine, job_id) == "ready"
        [entry] = [e for e in audit_page(migrated_engine, None, 10) if e.action == "retry_job"]
        assert (entry.count, entry.outcome) == (0, "refused")
        assert entry.detail is not None
        assert "failed" in entry.detail

    def test_bulk_resume(self, admin: TestClient, migrated_engine: Engine) -> None:
        """Resume all blocked: the count to confirm, then every blocked job pending."""
        blocked = [make_job(admin, migrated_engine, status="blocked") for _ in range(2)]
        page = post(admin, "/admin/bulk/resume-jobs")
        assert "Resume 2 blocked jobs?" in page
        assert all(job_status(migrated_engine, j) == "blocked" for j in blocked)
        assert "Resumed 2 blocked jobs" in post(admin, "/admin/bulk/resume-jobs", confirm="2")
        assert all(job_status(migrated_engine, j) == "pending" for j in blocked)

    def test_audio_through_the_session(
        self, admin: TestClient, migrated_engine: Engine, tmp_path: Path
    ) -> None:
        """The player's source is served with the session, never without it."""
        job_id = make_job(admin, migrated_engine)
        audio = tmp_path / "audio" / "c" / f"{job_id}.wav"
        audio.parent.mkdir(parents=True)
        audio.write_bytes(b"RIFF....WAVEfake")
        with migrated_engine.begin() as conn:
            conn.execute(
                update(JOBS)
                .where(JOBS.c.id == job_id)
                .values(status="ready", audio_path=f"c/{job_id}.wav", audio_duration_sec=1.5)
            )
        page = admin.get(f"/admin/jobs/{job_id}").text
        assert f'src="/admin/jobs/{job_id}/audio"' in page
        answer = admin.get(f"/admin/jobs/{job_id}/audio")
        assert answer.status_code == 200
        assert answer.content == b"RIFF....WAVEfake"
        admin.cookies.clear()
        refused = admin.get(f"/admin/jobs/{job_id}/audio", follow_redirects=False)
        assert refused.status_code == 303
        assert b"RIFF" not in refused.content


def test_audit_page_lists_actions(admin: TestClient, migrated_engine: Engine) -> None:
    """The audit page shows each action with who, what, on what and how many, and pages."""
    job_id = make_job(admin, migrated_engine, status="blocked")
    post(admin, f"/admin/jobs/{job_id}/resume")
    page = admin.get("/admin/audit").text
    assert "resume job" in page
    assert job_id in page
    assert re.search(r"admin \(session [\w-]{8}\) from", page)
    assert "login" in page
    first = admin.get("/admin/audit?limit=1").text
    assert "Older entries" in first
    assert admin.get("/admin/audit?before=abc").status_code == 400
