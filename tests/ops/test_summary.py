"""Replay verdicts and summaries, signatures to send, and the small rules of ops commands."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from config.signing import compute_signature
from voicehook.errors import InvalidSelection
from voicehook.ops.capture import Capture
from voicehook.ops.doctor import Status, redact_url, schema_check
from voicehook.ops.replay import outgoing_signature, unsignable
from voicehook.ops.reprocess import HELD, NO_BODY, skip_reason
from voicehook.ops.selection import build_filter
from voicehook.ops.summary import (
    MAX_LISTED,
    ReplayResult,
    ReplaySummary,
    Verdict,
    classify_response,
)

NOW = datetime(2025, 3, 10, tzinfo=UTC)
SIGNATURE_ERROR = '{"error":"invalid_signature"}'


class TestClassifyResponse:
    @pytest.mark.parametrize(
        ("status", "body", "verdict", "reason"),
        [
            (202, b'{"status":"accepted","eventId":"e1"}', Verdict.ACCEPTED, None),
            (200, b'{"status":"duplicate","eventId":"e1"}', Verdict.DUPLICATE, None),
            (401, b'{"error":"invalid_signature"}', Verdict.REJECTED, SIGNATURE_ERROR),
            (503, b'{"error":"unavailable"}', Verdict.REJECTED, '{"error":"unavailable"}'),
            (200, b"<html>ok</html>", Verdict.REJECTED, "<html>ok</html>"),
            (404, b"", Verdict.REJECTED, "(empty body)"),
        ],
    )  # fmt: skip
    def test_contract_answers(
        self, status: int, body: bytes, verdict: Verdict, reason: str | None
    ) -> None:
        """202 is accepted, 200 `duplicate` a duplicate, anything else a rejection with its body."""
        found, _event_id, found_reason = classify_response(status, body)
        assert (found, found_reason) == (verdict, reason)

    def test_event_id_is_taken_from_the_answer(self) -> None:
        """The event id the receiver names is kept with the verdict."""
        assert classify_response(200, b'{"status":"duplicate","eventId":"e9"}')[1] == "e9"


class TestReplaySummary:
    def test_counts_and_groups_reasons(self) -> None:
        """Verdicts are counted; rejections are grouped by status and body, errors by message."""
        summary = ReplaySummary()
        for result in [
            ReplayResult("a", Verdict.ACCEPTED, 202),
            ReplayResult("b", Verdict.DUPLICATE, 200),
            ReplayResult("c", Verdict.REJECTED, 401, '{"error":"invalid_signature"}'),
            ReplayResult("d", Verdict.REJECTED, 401, '{"error":"invalid_signature"}'),
            ReplayResult("e", Verdict.ERROR, None, "ConnectError: refused"),
        ]:
            summary.add(result)
        document = summary.document()
        counted = ("total", "accepted", "duplicate", "rejected", "errors")
        assert [document[k] for k in counted] == [5, 1, 1, 2, 1]
        assert document["reasons"] == {
            '401 {"error":"invalid_signature"}': 2,
            "network: ConnectError: refused": 1,
        }
        assert [f["source"] for f in document["failures"]] == ["c", "d", "e"]
        assert not summary.ok
        assert summary.lines()[0] == "5 replayed: 1 accepted, 1 duplicate, 2 rejected, 1 errors"

    def test_only_accepted_and_duplicates_is_ok(self) -> None:
        """Nothing rejected and nothing failed: the replay is ok (exit 0)."""
        summary = ReplaySummary()
        summary.add(ReplayResult("a", Verdict.ACCEPTED))
        summary.add(ReplayResult("b", Verdict.DUPLICATE))
        assert summary.ok

    def test_failures_listed_are_capped(self) -> None:
        """Past MAX_LISTED, failures are counted, not listed, and the text says how many more."""
        summary = ReplaySummary()
        for n in range(MAX_LISTED + 5):
            summary.add(ReplayResult(str(n), Verdict.REJECTED, 400, "bad"))
        assert len(summary.document()["failures"]) == MAX_LISTED
        assert summary.lines()[-1] == "  … and 5 more"


class TestSignatures:
    def test_captured_signature_unless_a_secret_is_given(self) -> None:
        """The captured header is sent as is; with a secret, a fresh HMAC of the body."""
        captured = Capture(b"{}", "c", headers={"x-voiceproductionai-signature": "sha256=00"})
        assert outgoing_signature(captured, None) == "sha256=00"
        assert outgoing_signature(captured, b"s2") == compute_signature(b"{}", b"s2")

    def test_bare_bodies_need_a_secret(self) -> None:
        """Bare bodies have nothing to send without --secret; with one, all can be signed."""
        bare = Capture(b"{}", "body.json")
        assert unsignable([bare], None) == ["body.json"]
        assert unsignable([bare], b"s") == []


class TestSmallRules:
    def test_reprocess_skips_held_and_bodiless_events(self) -> None:
        """A processing event or one whose bodies were pruned is not reprocessed."""
        assert skip_reason("processing", True) == HELD
        assert skip_reason("processed", False) == NO_BODY
        assert skip_reason("failed", True) is None

    def test_failed_and_status_must_agree(self) -> None:
        """--failed means status failed; combined with another status it is refused."""
        assert build_filter(now=NOW, failed=True).status == "failed"
        with pytest.raises(InvalidSelection, match="--failed"):
            build_filter(now=NOW, failed=True, status="queued")
        with pytest.raises(InvalidSelection, match="unknown status"):
            build_filter(now=NOW, status="done")
        assert build_filter(now=NOW).empty

    def test_schema_check_says_which_way_to_go(self) -> None:
        """At head is ok; no schema or another revision fails, saying to run db upgrade."""
        assert schema_check("0002", "0002").status is Status.OK
        missing = schema_check(None, "0002")
        assert missing.status is Status.FAIL
        assert "voicehook db upgrade" in str(missing.fix)
        assert "0001" in schema_check("0001", "0002").message

    def test_urls_are_shown_without_passwords(self) -> None:
        """A Redis URL with a password is shown with the password masked."""
        assert redact_url("redis://:hunter2@cache:6379/0") == "redis://:***@cache:6379/0"
        assert redact_url("redis://127.0.0.1:6379/0") == "redis://127.0.0.1:6379/0"
