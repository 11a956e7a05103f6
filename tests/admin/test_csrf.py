"""Every state-changing request is a POST with the session's CSRF token, from this origin."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import Engine
from starlette.testclient import TestClient

from tests.admin.conftest import TOKEN, event_status, log_in, send_webhook, set_event_status

PAGES = ["/admin/", "/admin/events", "/admin/jobs", "/admin/customers", "/admin/audit"]


@pytest.fixture
def failed_event(admin: TestClient, migrated_engine: Engine) -> str:
    event_id = send_webhook(admin, "generation.failed", "gen-csrf", error="x")
    set_event_status(migrated_engine, [event_id], "failed")
    return event_id


class TestCsrf:
    def test_action_without_token_is_refused(
        self, admin: TestClient, failed_event: str, migrated_engine: Engine
    ) -> None:
        """No token, a wrong one, or a token of another session: 403, and nothing done."""
        path = f"/admin/events/{failed_event}/reprocess"
        for form in (
            {"other": "1"},
            {"csrf": "wrong"},
            {"csrf": admin.headers["x-test-csrf"] + "x"},
        ):
            answer = admin.post(path, data=form, follow_redirects=False)
            assert answer.status_code == 403
            assert "CSRF" in answer.text
        assert event_status(migrated_engine, failed_event) == "failed"

    def test_token_of_another_session_is_refused(
        self, dashboard: TestClient, failed_event: str, migrated_engine: Engine
    ) -> None:
        """A token stolen from one session does not work in another."""
        theirs = dashboard.headers["x-test-csrf"]
        dashboard.cookies.clear()
        log_in(dashboard)
        answer = dashboard.post(
            f"/admin/events/{failed_event}/reprocess", data={"csrf": theirs}, follow_redirects=False
        )
        assert answer.status_code == 403
        assert event_status(migrated_engine, failed_event) == "failed"

    def test_other_origin_is_refused(
        self, admin: TestClient, failed_event: str, migrated_engine: Engine
    ) -> None:
        """A form posted from another site is refused even with the right token."""
        answer = admin.post(
            f"/admin/events/{failed_event}/reprocess",
            data={"csrf": admin.headers["x-test-csrf"]},
            headers={"origin": "https://evil.example"},
            follow_redirects=False,
        )
        assert answer.status_code == 403
        assert event_status(migrated_engine, failed_event) == "failed"

    def test_action_without_session_is_refused(
        self, dashboard: TestClient, failed_event: str, migrated_engine: Engine
    ) -> None:
        """Without a session an action is 403, not a redirect that would lose the form."""
        csrf = dashboard.headers["x-test-csrf"]
        dashboard.cookies.clear()
        answer = dashboard.post(
            f"/admin/events/{failed_event}/reprocess", data={"csrf": csrf}, follow_redirects=False
        )
        assert answer.status_code == 403
        assert event_status(migrated_engine, failed_event) == "failed"

    def test_right_token_acts(
        self, admin: TestClient, failed_event: str, migrated_engine: Engine
    ) -> None:
        """With the token, from this origin, the action is done."""
        answer = admin.post(
            f"/admin/events/{failed_event}/reprocess",
            data={"csrf": admin.headers["x-test-csrf"]},
            headers={"origin": "http://testserver"},
            follow_redirects=False,
        )
        assert answer.status_code == 303
        assert event_status(migrated_engine, failed_event) == "queued"

    def test_no_action_by_get(self, admin: TestClient, failed_event: str) -> None:
        """An action's path answers GET with 405."""
        for path in (
            f"/admin/events/{failed_event}/reprocess",
            f"/admin/events/{failed_event}/export",
            "/admin/jobs/some-job/retry",
            "/admin/jobs/some-job/resume",
            "/admin/bulk/reprocess-events",
            "/admin/bulk/resume-jobs",
            "/admin/logout",
        ):
            assert admin.get(path).status_code == 405, path

    def test_every_form_carries_the_token(self, admin: TestClient, failed_event: str) -> None:
        """Each POST form on each page has the session's CSRF field."""
        csrf = admin.headers["x-test-csrf"]
        for path in [*PAGES, f"/admin/events/{failed_event}"]:
            page = admin.get(path).text
            forms = re.findall(r"<form[^>]*method=\"post\".*?</form>", page, re.S)
            assert forms, path
            for form in forms:
                assert f'name="csrf" value="{csrf}"' in form, (path, form)


class TestHeaders:
    def test_strict_content_security_policy(self, admin: TestClient, failed_event: str) -> None:
        """Every page has a CSP without unsafe-inline or eval, and no inline script or style."""
        for path in [*PAGES, f"/admin/events/{failed_event}", "/admin/login"]:
            answer = admin.get(path)
            policy = answer.headers["content-security-policy"]
            assert "default-src 'none'" in policy
            assert "script-src 'self'" in policy
            assert "unsafe" not in policy
            assert answer.headers["x-frame-options"] == "DENY"
            assert answer.headers["cache-control"] == "no-store"
            assert not re.search(r"<script(?![^>]*\bsrc=)", answer.text), path
            assert not re.search(r"\sstyle=|<style", answer.text), path
            assert not re.search(r"\son[a-z]+=", answer.text), path
            assert TOKEN not in answer.text

    def test_static_files_are_served(self, admin: TestClient) -> None:
        """htmx and the time script are vendored and served by the dashboard itself."""
        for name in ("htmx.min.js", "local-time.js", "admin.css"):
            answer = admin.get(f"/admin/static/{name}")
            assert answer.status_code == 200
            assert len(answer.content) > 100
