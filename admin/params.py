"""The dashboard's query parameters, parsed and bounded: pure functions, BadQuery when not."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from datetime import datetime

from admin.errors import BadQuery
from records.dashboard_pages import EventQuery, JobQuery
from records.events import EventStatus
from records.jobs import JobStatus
from records.keyset import Position
from voicehook.errors import InvalidTimeSpec
from voicehook.ops.timespec import parse_instant

DEFAULT_PAGE = 50
MAX_PAGE = 200
MAX_TEXT = 100  # characters of any text filter
MAX_CURSOR = 200
MAX_QUERY_STRING = 2048
IDENTIFIER = re.compile(r"[A-Za-z0-9_.:-]+")
EVENT_TYPE = re.compile(r"[a-z][a-z0-9_.]*")
SINCE = re.compile(r"[0-9A-Za-z:.+-]+")  # a duration (30m, 2h) or an ISO-8601 time
EVENT_STATUSES = frozenset(status.value for status in EventStatus)
JOB_STATUSES = frozenset(status.value for status in JobStatus)


def page_size(params: Mapping[str, str]) -> int:
    raw = params.get("limit", "")
    if not raw:
        return DEFAULT_PAGE
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_PAGE:
        raise BadQuery(f"limit must be a whole number from 1 to {MAX_PAGE}")
    return int(raw)


def page_key(params: Mapping[str, str]) -> Position | None:
    """The `after` cursor of a list: where its next page starts."""
    raw = params.get("after", "")
    if not raw:
        return None
    if len(raw) > MAX_CURSOR:
        raise BadQuery("after is not a page cursor this dashboard made")
    try:
        text = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode()
        at, _, row_id = text.partition("|")
        key = Position(datetime.fromisoformat(at), row_id)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise BadQuery("after is not a page cursor this dashboard made") from None
    if key.created_at.tzinfo is None or not row_id:
        raise BadQuery("after is not a page cursor this dashboard made")
    return key


def cursor(key: Position) -> str:
    """The `after` value that starts the page after `key`."""
    text = f"{key.created_at.isoformat()}|{key.id}"
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def text(params: Mapping[str, str], name: str, pattern: re.Pattern[str] = IDENTIFIER) -> str | None:
    value = params.get(name, "").strip()
    if not value:
        return None
    if len(value) > MAX_TEXT:
        raise BadQuery(f"{name} is longer than {MAX_TEXT} characters")
    if not pattern.fullmatch(value):
        raise BadQuery(f"{name} may hold only letters, digits and . _ : -")
    return value


def choice(params: Mapping[str, str], name: str, allowed: frozenset[str]) -> str | None:
    value = params.get(name, "").strip()
    if not value:
        return None
    if value not in allowed:
        raise BadQuery(f"{name} must be one of: {', '.join(sorted(allowed))}")
    return value


def since(params: Mapping[str, str], now: datetime) -> datetime | None:
    value = params.get("since", "").strip()
    if not value:
        return None
    if len(value) > MAX_TEXT:
        raise BadQuery(f"since is longer than {MAX_TEXT} characters")
    try:
        return parse_instant(value, now)
    except InvalidTimeSpec as exc:
        raise BadQuery(f"since: {exc}") from None


def event_query(params: Mapping[str, str], now: datetime) -> EventQuery:
    return EventQuery(
        event_type=text(params, "type", EVENT_TYPE),
        status=choice(params, "status", EVENT_STATUSES),
        since=since(params, now),
        generation_id=text(params, "generation"),
        customer_id=text(params, "customer"),
        id_prefix=text(params, "q"),
    )


def job_query(params: Mapping[str, str]) -> JobQuery:
    return JobQuery(
        status=choice(params, "status", JOB_STATUSES),
        customer_id=text(params, "customer"),
        id_prefix=text(params, "q"),
    )


def path_id(path_params: Mapping[str, object], name: str) -> str:
    """An id from the path: bounded, and only the characters ids are made of."""
    value = str(path_params[name])
    if len(value) > MAX_TEXT or not IDENTIFIER.fullmatch(value):
        raise BadQuery(f"{name} is not an id")
    return value


def check_query_string(query_string: bytes) -> None:
    if len(query_string) > MAX_QUERY_STRING:
        raise BadQuery(f"the query string is longer than {MAX_QUERY_STRING} bytes")
