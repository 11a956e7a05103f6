"""Lookups the command line presents with: an id from a prefix a person typed (tables show
ids cut to 8 characters), and customers' own references in place of their ids."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Column, Engine, select

from records.errors import AmbiguousId, UnknownId
from records.jobs import CUSTOMERS

# Shorter prefixes match too much to be worth a query; tables show 8.
MIN_PREFIX = 4


def resolve_id(engine: Engine, column: Column[Any], given: str) -> str:
    """The one id of `column` (a table's id, e.g. `JOBS.c.id`) equal to `given`, or the only
    one starting with it."""
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
        raise AmbiguousId(given, [str(match) for match in matches])
    return str(matches[0])


def resolve_ids(engine: Engine, column: Column[Any], given: Sequence[str]) -> list[str]:
    """resolve_id of each; an unknown one stays as given, for the caller to report among the
    rest. AmbiguousId when a prefix matches several."""
    found = []
    for one in given:
        try:
            found.append(resolve_id(engine, column, one))
        except UnknownId:
            found.append(one)
    return found


def customer_refs(engine: Engine, customer_ids: Iterable[str | None]) -> dict[str, str]:
    """Each customer id given → that customer's external reference (the ref a user typed)."""
    wanted = {customer_id for customer_id in customer_ids if customer_id}
    if not wanted:
        return {}
    query = select(CUSTOMERS.c.id, CUSTOMERS.c.external_ref).where(CUSTOMERS.c.id.in_(wanted))
    with engine.connect() as conn:
        return {str(row.id): str(row.external_ref) for row in conn.execute(query)}
