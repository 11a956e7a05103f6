"""Capture files: exact bytes in, exact bytes out, in arrival order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest

from config.signing import SIGNATURE_HEADER
from voicehook.errors import CaptureError
from voicehook.ops.capture import (
    Capture,
    capture_document,
    capture_file_name,
    capture_from_document,
    decode_body,
    encode_body,
    read_captures,
    write_directory,
    write_jsonl,
)

T0 = datetime(2025, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)
NOT_UTF8 = b'{"event":"generation.ready","data":{"id":"g\xe9n"}}\xff\xfe'


def capture(number: int, body: bytes, seconds: float = 0) -> Capture:
    return Capture(
        body=body,
        source=f"delivery {number}",
        headers={"x-voiceproductionai-signature": f"sha256={number:064x}"},
        delivery_id=number,
        event_id=f"event-{number}",
        event_type="generation.ready",
        received_at=T0 + timedelta(seconds=seconds),
        remote_addr="203.0.113.7",
    )


class TestBodyEncoding:
    def test_utf8_body_is_readable_text(self) -> None:
        """A UTF-8 body is stored as its text, whitespace and escapes untouched."""
        body = '{ "event" : "generation.ready",\n "data": {"id": "g\\u00e9n", "n": "café"} }\n'
        assert encode_body(body.encode()) == (body, "utf-8")

    def test_other_bytes_are_base64_and_decode_back(self) -> None:
        """A body that is not UTF-8 goes to base64 and comes back byte for byte."""
        text, encoding = encode_body(NOT_UTF8)
        assert encoding == "base64"
        assert decode_body(text, encoding) == NOT_UTF8

    @pytest.mark.parametrize(
        ("text", "encoding", "message"),
        [("@@not base64@@", "base64", "base64"), ("x", "latin-1", "unknown bodyEncoding")],
    )
    def test_bad_encodings_are_refused(self, text: str, encoding: str, message: str) -> None:
        """Invalid base64, or an encoding other than utf-8/base64, is a CaptureError."""
        with pytest.raises(CaptureError, match=message):
            decode_body(text, encoding)


class TestDocument:
    def test_round_trip_keeps_everything(self) -> None:
        """A capture written as a document reads back equal, body bytes included."""
        original = capture(7, NOT_UTF8)
        document = orjson.loads(orjson.dumps(capture_document(original)))
        assert set(document) >= {
            "deliveryId", "eventId", "eventType", "receivedAt", "headers", "body", "bodyEncoding"
        }  # fmt: skip
        again = capture_from_document(document, "delivery 7")
        assert again == original

    def test_a_pruned_body_is_refused_with_its_source(self) -> None:
        """A document whose body is null cannot be replayed; the error names where it was."""
        document = capture_document(capture(1, b"{}")) | {"body": None}
        with pytest.raises(CaptureError, match=r"x\.json: `body`"):
            capture_from_document(document, "x.json")

    def test_signature_header_is_found_in_any_case(self) -> None:
        """The captured signature is looked up without regard to header-name case."""
        found = Capture(body=b"{}", source="s", headers={SIGNATURE_HEADER: "sha256=ab"})
        assert found.signature == "sha256=ab"
        assert Capture(body=b"{}", source="s").signature is None


class TestFiles:
    def test_directory_names_sort_in_arrival_order(self, tmp_path: Path) -> None:
        """Files are named by received time and delivery id, so a sorted listing is arrival
        order, and reading the directory back gives the captures in that order."""
        captures = [capture(12, b'{"a":1}', 1.5), capture(3, b'{"b":2}', 0), capture(2, b"", 90)]
        assert write_directory(tmp_path / "out", captures) == 3
        names = sorted(p.name for p in (tmp_path / "out").iterdir())
        assert names[0] == "20250102T030405.678901Z-000000000003.json"
        assert names == [capture_file_name(c) for c in sorted(captures, key=_arrival)]
        read = read_captures([tmp_path / "out"])
        assert [c.body for c in read] == [b'{"b":2}', b'{"a":1}', b""]
        assert [c.signature for c in read] == [c.signature for c in sorted(captures, key=_arrival)]

    def test_jsonl_round_trip(self, tmp_path: Path) -> None:
        """A JSONL export holds one capture a line and reads back equal, in order."""
        captures = [capture(1, b'{"x":"\\n"}\n'), capture(2, NOT_UTF8, 1)]
        out = tmp_path / "deep" / "captures.jsonl"
        assert write_jsonl(out, captures) == 2
        assert len(out.read_bytes().splitlines()) == 2
        assert [c.body for c in read_captures([out])] == [c.body for c in captures]
        assert not list(out.parent.glob("*.partial"))

    def test_bare_body_files_are_sent_byte_for_byte(self, tmp_path: Path) -> None:
        """A file that is not a capture envelope is a bare body: its exact bytes, unsigned."""
        raw = b'{ "event": "generation.ready",  "data": {"id": "g1"} }\r\n'
        (tmp_path / "body.json").write_bytes(raw)
        [bare] = read_captures([tmp_path / "body.json"])
        assert bare.body == raw
        assert (bare.signature, bare.headers) == (None, {})

    def test_jsonl_lines_may_be_bare_bodies(self, tmp_path: Path) -> None:
        """In a JSONL file, a line that is not a capture is a bare body of that line."""
        line = orjson.dumps(capture_document(capture(1, b'{"a":1}')))
        (tmp_path / "mixed.ndjson").write_bytes(line + b'\n\n{"event":"e","data":{}}\r\n')
        first, second = read_captures([tmp_path / "mixed.ndjson"])
        assert first.signature == "sha256=" + f"{1:064x}"
        assert (second.signature, second.body) == (None, b'{"event":"e","data":{}}')
        assert second.source.endswith("mixed.ndjson:3")

    def test_directories_skip_other_files_and_missing_paths_fail(self, tmp_path: Path) -> None:
        """Only .json/.jsonl/.ndjson files of a directory are read; a missing path is an error."""
        write_directory(tmp_path, [capture(1, b"{}")])
        (tmp_path / "notes.txt").write_text("not a capture")
        (tmp_path / "half.json.partial").write_text("{")
        assert len(read_captures([tmp_path])) == 1
        with pytest.raises(CaptureError, match="no such file"):
            read_captures([tmp_path / "nope"])


def _arrival(c: Capture) -> tuple[datetime, int]:
    assert c.received_at is not None
    assert c.delivery_id is not None
    return c.received_at, c.delivery_id
