"""The Range header of an audio player, parsed."""

from __future__ import annotations

import pytest

from receiver.byte_ranges import ByteRange, Unsatisfiable, parse_range


class TestParseRange:
    @pytest.mark.parametrize(
        ("header", "expected"),
        [
            ("bytes=0-9", ByteRange(0, 10, 100)),
            ("bytes=90-", ByteRange(90, 100, 100)),
            ("bytes=90-500", ByteRange(90, 100, 100)),
            ("bytes=-10", ByteRange(90, 100, 100)),
            ("bytes=-500", ByteRange(0, 100, 100)),
            ("bytes=100-", Unsatisfiable(100)),
            ("bytes=-0", Unsatisfiable(100)),
            (None, None),
            ("", None),
            ("items=0-9", None),
            ("bytes=0-9,20-29", None),
            ("bytes=9-3", None),
            ("bytes=a-b", None),
            ("bytes=-", None),
            ("bytes=5", None),
        ],
    )
    def test_one_range_or_the_whole(self, header: str | None, expected: object) -> None:
        """One satisfiable range is read; what it cannot read means the whole object."""
        assert parse_range(header, 100) == expected

    def test_content_range(self) -> None:
        assert ByteRange(4, 100, 1000).content_range == "bytes 4-99/1000"
