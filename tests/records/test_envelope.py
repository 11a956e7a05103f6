"""Parsing verified bodies, deriving dedup keys, and the optional freshness window."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import orjson
import pytest

from records.envelope import (
    MAX_KEY_LENGTH,
    check_freshness,
    dedup_key,
    parse_event,
    parse_timestamp,
)
from records.errors import InvalidPayload, StaleTimestamp


def body(**document: object) -> bytes:
    return orjson.dumps(document)


class TestParseEvent:
    def test_reads_type_id_and_timestamp(self) -> None:
        """A contract body yields its event type, resource id and UTC timestamp."""
        parsed = parse_event(
            body(event="generation.ready", timestamp="2025-01-01T00:00:05.250Z", data={"id": "g1"})
        )
        assert parsed.type == "generation.ready"
        assert parsed.resource_id == "g1"
        assert parsed.body_timestamp == datetime(2025, 1, 1, 0, 0, 5, 250000, tzinfo=UTC)
        assert parsed.dedup_key == "generation.ready:g1"
        assert parsed.known

    def test_unknown_events_parse_but_are_not_known(self) -> None:
        """The upstream may add event types; they parse and are flagged unknown."""
        parsed = parse_event(body(event="generation.archived", data={"id": "g1"}))
        assert not parsed.known

    @pytest.mark.parametrize(
        ("raw", "reason"),
        [
            (b"not json", "not JSON"),
            (b"[1, 2]", "not a JSON object"),
            (body(data={"id": "x"}), "`event`"),
            (body(event="", data={}), "`event`"),
            (body(event=3, data={}), "`event`"),
            (body(event="generation.ready"), "`data`"),
            (body(event="generation.ready", data=[1]), "`data`"),
            (b"\xff\xfe", "not JSON"),
        ],
    )
    def test_rejects_what_is_not_an_envelope(self, raw: bytes, reason: str) -> None:
        """Missing or mistyped `event`/`data` is an InvalidPayload saying which."""
        with pytest.raises(InvalidPayload, match=reason):
            parse_event(raw)


class TestDedupKey:
    def test_semantic_key_ignores_timestamp(self) -> None:
        """Two deliveries of one event with different timestamps share a key."""
        first = parse_event(
            body(event="generation.ready", timestamp="2025-01-01T00:00:00Z", data={"id": "g1"})
        )
        again = parse_event(
            body(event="generation.ready", timestamp="2025-01-01T05:00:00Z", data={"id": "g1"})
        )
        assert first.dedup_key == again.dedup_key

    def test_event_type_is_part_of_the_key(self) -> None:
        """`generation.failed` and `generation.ready` of one generation are different events."""
        assert dedup_key("generation.ready", "g1", b"") != dedup_key("generation.failed", "g1", b"")

    def test_body_hash_without_an_id(self) -> None:
        """Without `data.id` the key is the sha256 of the exact raw body."""
        raw = body(event="voice.cloned", data={"name": "x"})
        assert parse_event(raw).dedup_key == "sha256:" + hashlib.sha256(raw).hexdigest()

    def test_numeric_ids_are_kept(self) -> None:
        """A numeric id is still an id."""
        assert parse_event(body(event="voice.cloned", data={"id": 42})).dedup_key == (
            "voice.cloned:42"
        )

    def test_long_keys_are_hashed_to_fit(self) -> None:
        """An absurdly long id gives a bounded, stable, distinct key."""
        long_id = "x" * 1000
        key = dedup_key("generation.ready", long_id, b"")
        assert len(key) <= MAX_KEY_LENGTH
        assert key == dedup_key("generation.ready", long_id, b"")
        assert key != dedup_key("generation.ready", long_id + "y", b"")
        assert key.startswith("generation.ready:sha256:")


class TestFreshness:
    NOW = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)

    def test_within_window(self) -> None:
        """A timestamp inside the window passes, in either direction (clock skew)."""
        check_freshness(self.NOW - timedelta(seconds=299), self.NOW, 300)
        check_freshness(self.NOW + timedelta(seconds=299), self.NOW, 300)

    def test_stale(self) -> None:
        """A timestamp older than the window is refused."""
        with pytest.raises(StaleTimestamp):
            check_freshness(self.NOW - timedelta(seconds=301), self.NOW, 300)

    def test_missing(self) -> None:
        """With the window on, a missing or unparseable timestamp is refused."""
        with pytest.raises(StaleTimestamp):
            check_freshness(None, self.NOW, 300)

    @pytest.mark.parametrize("value", [None, "", "yesterday", 17, "2025-13-01T00:00:00Z"])
    def test_unparseable_timestamps_are_none(self, value: object) -> None:
        """Unparseable timestamps become None instead of raising."""
        assert parse_timestamp(value) is None

    def test_offsets_are_normalised_to_utc(self) -> None:
        """A timestamp with an offset is converted to UTC."""
        assert parse_timestamp("2025-01-01T02:00:00+02:00") == datetime(2025, 1, 1, tzinfo=UTC)
