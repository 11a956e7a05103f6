"""Errors in the services' JSON logs."""

from __future__ import annotations

from bench.logs import check_errors, error_lines


class TestLogErrors:
    def test_errors_and_raw_lines(self) -> None:
        """Error-level JSON lines and non-JSON lines are errors; info and warnings are not."""
        text = "\n".join(
            [
                '{"event": "ok", "level": "info"}',
                '{"event": "slow", "level": "warning"}',
                '{"event": "boom", "level": "error"}',
                "Traceback (most recent call last):",
                "",
            ]
        )
        assert error_lines(text) == [
            '{"event": "boom", "level": "error"}',
            "Traceback (most recent call last):",
        ]

    def test_check_names_the_first(self) -> None:
        """The check fails and quotes the first error."""
        check = check_errors("worker log", '{"event": "boom", "level": "error"}')
        assert not check.passed
        assert "boom" in check.detail
        assert check_errors("worker log", "").passed
