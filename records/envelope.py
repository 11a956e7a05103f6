"""What a verified body says: event type, resource id, timestamp, and its deduplication key."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import orjson

from records.errors import InvalidPayload, StaleTimestamp

KNOWN_EVENTS = frozenset({"generation.ready", "generation.failed", "voice.cloned"})
MAX_KEY_LENGTH = 255


@dataclass(frozen=True, slots=True)
class ParsedEvent:
    type: str
    resource_id: str | None
    body_timestamp: datetime | None
    dedup_key: str

    @property
    def known(self) -> bool:
        return self.type in KNOWN_EVENTS


def parse_event(body: bytes) -> ParsedEvent:
    """Parse a webhook body, or raise InvalidPayload saying what is wrong with it."""
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise InvalidPayload(f"body is not JSON: {exc}") from None
    if not isinstance(document, dict):
        raise InvalidPayload("body is not a JSON object")
    event_type = document.get("event")
    if not isinstance(event_type, str) or not event_type.strip():
        raise InvalidPayload("`event` must be a non-empty string")
    data = document.get("data")
    if not isinstance(data, dict):
        raise InvalidPayload("`data` must be an object")
    resource_id = _resource_id(data.get("id"))
    return ParsedEvent(
        type=event_type,
        resource_id=resource_id,
        body_timestamp=parse_timestamp(document.get("timestamp")),
        dedup_key=dedup_key(event_type, resource_id, body),
    )


def _resource_id(value: object) -> str | None:
    if isinstance(value, str) and value.strip():
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def dedup_key(event_type: str, resource_id: str | None, body: bytes) -> str:
    """`event:data.id` (one event per resource, ever); the body's sha256 when there is no id.

    Keys longer than the column are hashed, keeping the event type readable in front.
    """
    if resource_id is None:
        return "sha256:" + hashlib.sha256(body).hexdigest()
    key = f"{event_type}:{resource_id}"
    if len(key) <= MAX_KEY_LENGTH:
        return key
    digest = hashlib.sha256(key.encode()).hexdigest()
    return f"{event_type[: MAX_KEY_LENGTH - 72]}:sha256:{digest}"


def parse_timestamp(value: object) -> datetime | None:
    """An ISO-8601 timestamp as an aware UTC datetime; None when absent or unparseable."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def check_freshness(timestamp: datetime | None, now: datetime, tolerance_seconds: int) -> None:
    """Raise StaleTimestamp unless `timestamp` is within `tolerance_seconds` of `now`."""
    if timestamp is None:
        raise StaleTimestamp("`timestamp` is missing or unparseable")
    if abs(now - timestamp) > timedelta(seconds=tolerance_seconds):
        raise StaleTimestamp(
            f"`timestamp` {timestamp.isoformat()} is more than {tolerance_seconds}s from now"
        )
