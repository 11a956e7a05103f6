"""Lookups the command line presents with: an id from a prefix a person typed (tables show
ids cut to 8 characters), and customers' own references in place of their ids."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import ColumnElement, Engine, select
from sqlalchemy.orm import Mapped
from sqlmodel import col

from records.jobs import Customer

# Shorter prefixes match too much to be worth a query; tables show 8.
MIN_PREFIX = 4


class UnknownId(LookupError):
    """Raised when no row's id is, or starts with, what was given."""


class AmbiguousId(LookupError):
    """Raised when a prefix matches more than one row; `matches` lists a few of them."""

    def __init__(self, given: str, matches: list[str]) -> None:
        super().__init__(f"{given!r} matches {', '.join(matches)}…; give more of the id")
        self.matches = matches


def resolve_id(engine: Engine, column: ColumnElement[Any] | Mapped[Any], given: str) -> str:
    """The one id of `column` equal to `given`, or the only one starting with it."""
    with engine.connect() as conn:
        if conn.execute(select(column).where(column == given)).first() is not None:
            return given
        if len(given) < MIN_PREFIX:
            raise UnknownId(given)
        escaped = given.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        matches = list(
            conn.execute(select(column).where(column.like(escaped + "%", escape="\\")).limit(3))
            .scalars()
            .all()
        )
    if not matches:
        raise UnknownId(given)
    if len(matches) > 1:
        raise AmbiguousId(given, matches)
    return str(matches[0])


def customer_refs(engine: Engine, customer_ids: Iterable[str | None]) -> dict[str, str]:
    """Each customer id given → that customer's external reference (the ref a user typed)."""
    wanted = {customer_id for customer_id in customer_ids if customer_id}
    if not wanted:
        return {}
    query = select(col(Customer.id), col(Customer.external_ref)).where(col(Customer.id).in_(wanted))
    with engine.connect() as conn:
        return {str(row[0]): str(row[1]) for row in conn.execute(query)}
