"""Keyset pagination, newest first, over (created_at, id): the one ordering every list of
the internal API uses, backed by an index on those columns (migration 0009). The
dashboard's event list pages the same way over (received_at, id) (`time_column`).

A page asks for one row more than its limit: if it comes, there is a next page, which
starts after the last row shown. Rows inserted while a client walks the pages are newer
than where it is, so they never shift a page: each row that existed when the walk began is
seen exactly once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, Table, and_, or_


@dataclass(frozen=True)
class Position:
    """Where a page ends: the last row's creation time (or its `time_column`) and id."""

    created_at: datetime
    id: str


@dataclass(frozen=True)
class Page:
    items: list[dict[str, Any]]
    next: Position | None  # None: this was the last page


def page_query(
    table: Table,
    query: Select[Any],
    after: Position | None,
    limit: int,
    *,
    time_column: str = "created_at",
) -> Select[Any]:
    """`query` ordered newest first, starting after `after`, one row more than `limit`."""
    created, row_id = table.c[time_column], table.c.id
    if after is not None:
        query = query.where(_after(created, row_id, after))
    return query.order_by(created.desc(), row_id.desc()).limit(limit + 1)


def cut(
    rows: Sequence[Any], items: list[dict[str, Any]], limit: int, *, time_column: str = "created_at"
) -> Page:
    """The page of `items` (one per row), and where the next one starts."""
    if len(rows) <= limit:
        return Page(items, None)
    last = rows[limit - 1]
    return Page(items[:limit], Position(getattr(last, time_column), last.id))


def _after(
    created: ColumnElement[Any], row_id: ColumnElement[Any], after: Position
) -> ColumnElement[bool]:
    return or_(created < after.created_at, and_(created == after.created_at, row_id < after.id))
