"""Logging in and out of the dashboard over HTTP: the cookie, its expiry, the throttle."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from sqlalchemy import Engine
from starlette.testclient import TestClient

from admin.login_throttle import PER_ADDRESS, WINDOW_SECONDS, LoginThrottle
from admin.session import COOKIE, SessionSigner
from tests.admin.conftest import TOKEN, csrf_of, log_in
from tests.conftest import make_settings
from tests.in_process import receiver_client

PAGES = ["/admin/", "/admin/events", "/admin/jobs", "/admin/customers", "/admin/audit"]


class TestLogin:
    def test_pages_need_a_session(self, dashboard: TestClient) -> None:
        """Every page sends a visitor without a session to the login form."""
        for path in PAGES:
            answer = dashboard.get(path, follow_redirects=False)
            assert answer.status_code == 303, path
            assert answer.headers["location"] == "/admin/login"
        assert dashboard.get("/admin/login").status_code == 200

    def test_bare_admin_path_and_htmx_without_session(self, dashboard: TestClient) -> None:
        """`/admin` leads to `/admin/`; an htmx poll after the session ended is told to go to
        the login page (401 with HX-Redirect), not given the login form to swap in."""
        bare = dashboard.get("/admin", follow_redirects=False)
        assert bare.status_code == 308
        assert bare.headers["location"] == "/admin/"
        poll = dashboard.get("/admin/events", headers={"hx-request": "true"})
        assert poll.status_code == 401
        assert poll.headers["hx-redirect"] == "/admin/login"

    def test_wrong_token_is_refused(self, dashboard: TestClient) -> None:
        """A wrong token gets 401, a message, and no cookie."""
        answer = dashboard.post("/admin/login", data={"token": "guess"}, follow_redirects=False)
        assert answer.status_code == 401
        assert "not the admin token" in answer.text
        assert COOKIE not in answer.cookies

    def test_cookie_is_signed_httponly_strict_and_expires(self, dashboard: TestClient) -> None:
        """The session cookie is HttpOnly, SameSite=Strict, scoped to /admin, with a Max-Age;
        not Secure over plain HTTP."""
        answer = dashboard.post("/admin/login", data={"token": TOKEN}, follow_redirects=False)
        assert answer.status_code == 303
        cookie = answer.headers["set-cookie"]
        assert cookie.startswith(f"{COOKIE}=")
        assert "HttpOnly" in cookie
        assert "SameSite=strict" in cookie or "SameSite=Strict" in cookie
        assert "Path=/admin" in cookie
        assert re.search(r"Max-Age=28800", cookie)
        assert "Secure" not in cookie
        assert TOKEN not in cookie
        assert dashboard.get("/admin/").status_code == 200

    def test_cookie_is_secure_over_https(
        self, database_url: str, redis_url: str, migrated_engine: Engine, tmp_path: Path
    ) -> None:
        """Served over HTTPS, the cookie is Secure as well."""
        settings = make_settings(
            database_url, redis_url, admin_token=TOKEN, audio_dir=str(tmp_path / "a")
        )
        with receiver_client(settings) as client:
            client.base_url = "https://testserver"
            answer = client.post("/admin/login", data={"token": TOKEN}, follow_redirects=False)
        assert answer.status_code == 303
        assert "Secure" in answer.headers["set-cookie"]

    def test_cookie_is_secure_behind_a_tls_router(self, dashboard: TestClient) -> None:
        """Behind a router that ends TLS (X-Forwarded-Proto: https) the cookie is Secure."""
        answer = dashboard.post(
            "/admin/login",
            data={"token": TOKEN},
            headers={"x-forwarded-proto": "https"},
            follow_redirects=False,
        )
        assert answer.status_code == 303
        assert "Secure" in answer.headers["set-cookie"]

    def test_forged_cookie_is_no_session(self, dashboard: TestClient) -> None:
        """A cookie signed with another key, or altered, is not a session."""
        forged, _ = SessionSigner("another-token", 3600).issue()
        for value in (forged, "garbage", "x" * 5000):
            dashboard.cookies.set(COOKIE, value, path="/admin")
            answer = dashboard.get("/admin/", follow_redirects=False)
            assert answer.status_code == 303
            dashboard.cookies.clear()

    def test_logout_ends_the_session_for_good(self, dashboard: TestClient) -> None:
        """After logging out, the same cookie (say, copied before) no longer opens a page."""
        csrf = log_in(dashboard)
        copied = dashboard.cookies.get(COOKIE)
        answer = dashboard.post("/admin/logout", data={"csrf": csrf}, follow_redirects=False)
        assert answer.status_code == 303
        assert answer.headers["location"] == "/admin/login"
        assert dashboard.get("/admin/", follow_redirects=False).status_code == 303
        assert copied is not None
        dashboard.cookies.set(COOKIE, copied, path="/admin")
        assert dashboard.get("/admin/", follow_redirects=False).status_code == 303

    def test_failed_logins_are_throttled(self, dashboard: TestClient) -> None:
        """After PER_ADDRESS failures, even the right token waits (429, Retry-After)."""
        for _ in range(PER_ADDRESS):
            assert dashboard.post("/admin/login", data={"token": "no"}).status_code == 401
        answer = dashboard.post("/admin/login", data={"token": TOKEN}, follow_redirects=False)
        assert answer.status_code == 429
        assert int(answer.headers["retry-after"]) > 0
        assert COOKIE not in answer.cookies

    def test_oversized_login_form_is_refused(self, dashboard: TestClient) -> None:
        """A login form past the cap is refused with 400, before any comparison."""
        answer = dashboard.post("/admin/login", data={"token": "x" * 20_000})
        assert answer.status_code == 400
        assert "at most" in answer.text

    def test_disabled_without_admin_token(
        self, database_url: str, redis_url: str, migrated_engine: Engine, tmp_path: Path
    ) -> None:
        """Without ADMIN_TOKEN the dashboard says how to enable it (503), and nothing opens."""
        settings = make_settings(database_url, redis_url, audio_dir=str(tmp_path / "a"))
        with receiver_client(settings) as client:
            for path in ["/admin/login", "/admin/", "/admin/events"]:
                answer = client.get(path)
                assert answer.status_code == 503
                assert "ADMIN_TOKEN" in answer.text


class TestSessionSigner:
    def test_expired_cookie_is_refused(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """A cookie older than the lifetime is no session."""
        signer = SessionSigner(TOKEN, 60)
        real = time.time
        monkeypatch.setattr(time, "time", lambda: real() - 120)
        old, _ = signer.issue()
        monkeypatch.setattr(time, "time", real)
        fresh, session = signer.issue()
        assert signer.read(old) is None
        assert signer.read(fresh) == session

    def test_changing_the_token_ends_every_session(self) -> None:
        """The key comes from ADMIN_TOKEN: a new token reads no old cookie."""
        cookie, _ = SessionSigner(TOKEN, 60).issue()
        assert SessionSigner(TOKEN + "-rotated", 60).read(cookie) is None


class TestLoginThrottle:
    def test_window_slides(self) -> None:
        """An address is let in again once its oldest failure leaves the window."""
        now = [1000.0]
        throttle = LoginThrottle(clock=lambda: now[0])
        for _ in range(PER_ADDRESS):
            throttle.failed("a")
        assert throttle.retry_after("a") == pytest.approx(WINDOW_SECONDS)
        assert throttle.retry_after("b") == 0.0
        now[0] += WINDOW_SECONDS + 1
        assert throttle.retry_after("a") == 0.0

    def test_success_forgets_the_address(self) -> None:
        """A successful login clears that address's failures."""
        throttle = LoginThrottle(clock=lambda: 5.0)
        for _ in range(PER_ADDRESS - 1):
            throttle.failed("a")
        throttle.succeeded("a")
        throttle.failed("a")
        assert throttle.retry_after("a") == 0.0


def test_csrf_token_differs_per_session(dashboard: TestClient) -> None:
    """Each login makes a new CSRF token."""
    first = log_in(dashboard)
    dashboard.cookies.clear()
    second = log_in(dashboard)
    assert first != second
    assert csrf_of(dashboard.get("/admin/").text) == second
