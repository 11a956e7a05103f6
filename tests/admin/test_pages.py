"""The dashboard's pages over HTTP: bodies rendered inert, keyset pages, bounded parameters."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import Engine
from starlette.testclient import TestClient

from admin import pages as admin_pages
from admin.params import MAX_PAGE, MAX_QUERY_STRING
from records import dashboard_counts
from tests.admin.conftest import make_job, send_webhook, set_event_status

HOSTILE = "<script>alert('owned')</script>"


def event_ids_on(page: str) -> list[str]:
    return re.findall(r'href="/admin/events/([0-9a-f-]{36})"', page)


class TestEscaping:
    def test_script_in_a_body_is_inert(self, admin: TestClient) -> None:
        """A webhook body holding <script> is shown as text on the event page and lists."""
        event_id = send_webhook(admin, "generation.failed", "gen-x", error=HOSTILE)
        page = admin.get(f"/admin/events/{event_id}").text
        assert HOSTILE not in page
        assert "&lt;script&gt;alert(&#39;owned&#39;)&lt;/script&gt;" in page
        assert "<script>alert" not in admin.get("/admin/events").text

    def test_resource_id_and_error_are_escaped(
        self, admin: TestClient, migrated_engine: Engine
    ) -> None:
        """What the upstream named (ids, errors) is escaped too, in the list and the page."""
        event_id = send_webhook(admin, "generation.failed", f"gen-{HOSTILE}")
        set_event_status(migrated_engine, [event_id], "failed")
        for page in (admin.get("/admin/events").text, admin.get(f"/admin/events/{event_id}").text):
            assert HOSTILE not in page
            assert "&lt;script&gt;" in page

    def test_exact_bytes_are_a_download(self, admin: TestClient) -> None:
        """The exact bytes come as an attachment the browser will not render."""
        event_id = send_webhook(admin, "generation.failed", "gen-bytes", error=HOSTILE)
        page = admin.get(f"/admin/events/{event_id}").text
        [link] = re.findall(r'href="(/admin/events/[^"]+/deliveries/\d+/body)"', page)
        answer = admin.get(link)
        assert answer.status_code == 200
        assert answer.headers["content-type"] == "application/octet-stream"
        assert answer.headers["content-disposition"].startswith("attachment")
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert HOSTILE.encode() in answer.content
        assert admin.get(f"/admin/events/{event_id}/deliveries/{10**30}/body").status_code == 404
        assert admin.get(f"/admin/events/{event_id}/deliveries/999999/body").status_code == 404


class TestEventPages:
    def test_event_page_shows_deliveries_and_job(
        self, admin: TestClient, migrated_engine: Engine
    ) -> None:
        """An event's page shows every delivery with its address and fingerprint."""
        event_id = send_webhook(admin, "generation.ready", "gen-twice", downloadUrl="http://x/a")
        assert send_webhook(admin, "generation.ready", "gen-twice", downloadUrl="http://x/a") == (
            event_id
        )
        page = admin.get(f"/admin/events/{event_id}").text
        assert page.count("<h3>Delivery ") == 2
        assert "(duplicate)" in page
        assert "testclient" in page or "127.0.0.1" in page
        assert "&#34;event&#34;: &#34;generation.ready&#34;" in page  # indented JSON, escaped

    def test_unknown_event_is_404(self, admin: TestClient) -> None:
        assert admin.get("/admin/events/no-such-event").status_code == 404

    def test_keyset_pages_cover_every_event_once(self, admin: TestClient) -> None:
        """Following `Older` links visits every event exactly once, newest first."""
        sent = [send_webhook(admin, "generation.ready", f"gen-{n}") for n in range(7)]
        seen: list[str] = []
        url = "/admin/events?limit=3"
        pages = 0
        while url:
            page = admin.get(url).text
            seen.extend(event_ids_on(page))
            pages += 1
            found = re.search(r'href="(/admin/events\?[^"]*after=[^"]+)" rel="next"', page)
            url = found.group(1).replace("&amp;", "&") if found else ""
        assert pages == 3
        assert seen == list(reversed(sent))

    def test_filters(self, admin: TestClient, migrated_engine: Engine) -> None:
        """Type, status, generation id and id prefix each narrow the list."""
        ready = send_webhook(admin, "generation.ready", "gen-a")
        failed = send_webhook(admin, "generation.failed", "gen-b")
        set_event_status(migrated_engine, [failed], "failed")
        assert event_ids_on(admin.get("/admin/events?type=generation.failed").text) == [failed]
        assert event_ids_on(admin.get("/admin/events?status=failed").text) == [failed]
        assert event_ids_on(admin.get("/admin/events?generation=gen-a").text) == [ready]
        assert event_ids_on(admin.get(f"/admin/events?q={ready[:13]}").text) == [ready]
        assert event_ids_on(admin.get("/admin/events?since=1m").text) == [failed, ready]

    def test_live_fragment(self, admin: TestClient) -> None:
        """htmx's poll of the first page gets the rows alone, not a whole page."""
        event_id = send_webhook(admin, "generation.ready", "gen-live")
        full = admin.get("/admin/events").text
        assert 'hx-trigger="every 5s"' in full
        rows = admin.get("/admin/events", headers={"hx-request": "true"}).text
        assert event_id in rows
        assert "<html" not in rows

    @pytest.mark.parametrize(
        ("query", "says"),
        [
            ("limit=0", "limit"),
            (f"limit={MAX_PAGE + 1}", "limit"),
            ("limit=ten", "limit"),
            ("status=lost", "status must be one of"),
            ("since=yesterday-ish", "since"),
            ("q=" + "a" * 101, "longer than"),
            ("q=%3Cscript%3E", "only letters"),
            ("type=Generation%20Ready", "type"),
            ("after=not-a-cursor", "cursor"),
            ("customer=" + "x" * 200, "longer than"),
        ],
    )
    def test_bad_parameters_are_a_clear_400(self, admin: TestClient, query: str, says: str) -> None:
        """A parameter out of bounds is refused with 400 and a message naming it."""
        answer = admin.get(f"/admin/events?{query}")
        assert answer.status_code == 400
        assert says in answer.text
        assert "<script>" not in answer.text

    def test_huge_query_string_is_refused(self, admin: TestClient) -> None:
        answer = admin.get("/admin/events?type=a&pad=" + "x" * MAX_QUERY_STRING)
        assert answer.status_code == 400


class TestOtherPages:
    def test_overview_counts(self, admin: TestClient, migrated_engine: Engine) -> None:
        """The overview counts events and jobs by status and this hour's deliveries."""
        failed = send_webhook(admin, "generation.failed", "gen-o1")
        send_webhook(admin, "generation.failed", "gen-o1")
        set_event_status(migrated_engine, [failed], "failed")
        make_job(admin, migrated_engine, status="blocked")
        page = admin.get("/admin/").text
        assert re.search(r'status=failed">failed</a></th><td class="num">1<', page)
        assert re.search(r'status=blocked">blocked</a></th><td class="num">1<', page)
        assert "accepted 1" in page
        assert "duplicate 1" in page
        assert "<rect" in page  # the per-minute chart has a bar

    def test_counts_stop_at_the_cap(
        self, admin: TestClient, migrated_engine: Engine, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Past COUNT_CAP a status shows as "more than" it: the count's cost stays bounded."""
        monkeypatch.setattr(dashboard_counts, "COUNT_CAP", 2)
        monkeypatch.setattr(admin_pages, "COUNT_CAP", 2)
        failed = [send_webhook(admin, "generation.failed", f"gen-cap{n}") for n in range(3)]
        set_event_status(migrated_engine, failed, "failed")
        page = admin.get("/admin/").text
        assert re.search(r'status=failed">failed</a></th><td class="num">more than 2<', page)
        assert dashboard_counts.overview(migrated_engine).events_by_status["failed"] == 3

    def test_refused_deliveries_are_counted(self, admin: TestClient) -> None:
        """A delivery with a bad signature shows in the refusals of this process."""
        answer = admin.post(
            "/webhooks/voiceproductionai",
            content=b"{}",
            headers={"content-type": "application/json", "x-vpai-signature": "nope"},
        )
        assert answer.status_code in (400, 401)
        page = admin.get("/admin/").text
        assert re.search(r"invalid (signature|payload) 1", page)

    def test_jobs_list_and_page(self, admin: TestClient, migrated_engine: Engine) -> None:
        """Jobs are listed with their status; a job's page shows its request and attempts."""
        job_id = make_job(admin, migrated_engine, status="failed")
        listing = admin.get("/admin/jobs?status=failed").text
        assert f'href="/admin/jobs/{job_id}"' in listing
        assert f'href="/admin/jobs/{job_id}"' not in admin.get("/admin/jobs?status=ready").text
        page = admin.get(f"/admin/jobs/{job_id}").text
        assert "Hello." in page
        assert f'action="/admin/jobs/{job_id}/retry"' in page
        assert admin.get("/admin/jobs/nope").status_code == 404

    def test_customers_show_usage(self, admin: TestClient, migrated_engine: Engine) -> None:
        make_job(admin, migrated_engine)
        page = admin.get("/admin/customers").text
        assert "acme" in page
        assert "their jobs" in page
        assert "No voices yet." in page
