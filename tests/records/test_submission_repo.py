"""When a submission may act (the claim of `start_submission` is tested with the handlers)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from records.submission_repo import may_submit

NOW = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)


class TestSubmissions:
    def test_submission_only_when_due(self) -> None:
        """A submission acts for pending or retry-waiting jobs whose time has come."""
        assert may_submit("pending", None, NOW)
        assert may_submit("retry_wait", NOW - timedelta(seconds=1), NOW)
        assert not may_submit("retry_wait", NOW + timedelta(seconds=5), NOW)
        assert not may_submit("submitted", None, NOW)
        assert not may_submit("ready", None, NOW)
