"""The query parameters of the internal API's lists, read into plain values: pure.

A cursor is opaque to the client: the base64url of where the last page ended. Nothing in
it is trusted beyond its shape — a forged cursor only starts a page somewhere else.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Collection, Mapping
from datetime import datetime

import orjson
from starlette.responses import Response

from receiver.errors import InvalidListParameter
from receiver.responses import json_response
from records.keyset import Page, Position

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
MAX_CURSOR_LENGTH = 256
MAX_ID_LENGTH = 64
MAX_FILTER_LENGTH = 255


def encode_cursor(position: Position) -> str:
    raw = orjson.dumps([position.created_at.isoformat(), position.id])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> Position:
    """The position a cursor names; InvalidListParameter if it is not one of ours."""
    if len(cursor) > MAX_CURSOR_LENGTH:
        raise InvalidListParameter("cursor", "is longer than any cursor this API gives")
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        created, row_id = orjson.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
        position = Position(datetime.fromisoformat(created), row_id)
    except (ValueError, TypeError, UnicodeEncodeError, binascii.Error):
        raise InvalidListParameter("cursor", "is not a cursor this API gave") from None
    if (
        position.created_at.tzinfo is None
        or not isinstance(row_id, str)
        or len(row_id) > MAX_ID_LENGTH
    ):
        raise InvalidListParameter("cursor", "is not a cursor this API gave")
    return position


PAGE_PARAMETERS = frozenset({"cursor", "limit"})


def refuse_unknown(query: Mapping[str, str], filters: Collection[str] = ()) -> None:
    """InvalidListParameter naming a parameter the list does not take (a typo'd filter
    would otherwise widen the list silently)."""
    for name in query:
        if name not in PAGE_PARAMETERS and name not in filters:
            known = ", ".join(sorted({*PAGE_PARAMETERS, *filters}))
            raise InvalidListParameter(name or "(empty)", f"is not a parameter; known: {known}")


def read_limit(query: Mapping[str, str]) -> int:
    raw = query.get("limit")
    if raw is None:
        return DEFAULT_LIMIT
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
        raise InvalidListParameter("limit", f"must be a whole number from 1 to {MAX_LIMIT}")
    return int(raw)


def read_cursor(query: Mapping[str, str]) -> Position | None:
    raw = query.get("cursor")
    return None if raw is None or raw == "" else decode_cursor(raw)


def read_since(query: Mapping[str, str]) -> datetime | None:
    raw = query.get("since")
    if raw is None:
        return None
    try:
        since = datetime.fromisoformat(raw) if len(raw) <= 40 else None
    except ValueError:
        since = None
    if since is None or since.tzinfo is None:
        raise InvalidListParameter("since", "must be an ISO 8601 time with a zone (…Z)")
    return since


def read_choice(query: Mapping[str, str], name: str, choices: Collection[str]) -> str | None:
    raw = query.get(name)
    if raw is None:
        return None
    if raw not in choices:
        raise InvalidListParameter(name, f"must be one of {', '.join(sorted(choices))}")
    return raw


def read_text(query: Mapping[str, str], name: str) -> str | None:
    raw = query.get(name)
    if raw is None:
        return None
    if not 1 <= len(raw) <= MAX_FILTER_LENGTH:
        raise InvalidListParameter(name, f"must be 1-{MAX_FILTER_LENGTH} characters")
    return raw


def page_response(page: Page) -> Response:
    """A list's answer: the page's items and the cursor of the next page (null: the last)."""
    cursor = None if page.next is None else encode_cursor(page.next)
    return json_response(200, {"items": page.items, "nextCursor": cursor})
