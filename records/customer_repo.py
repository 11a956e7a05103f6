"""Customers: created once per external reference, and read with their usage
(counted by `records.customer_usage`)."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

from sqlalchemy import Connection, Engine, insert
from sqlalchemy.exc import IntegrityError

from config.database import transaction
from records.customer_usage import customer_of, customer_query, customer_row
from records.documents import customer_document_on, customer_summary
from records.jobs import CUSTOMERS, Customer
from records.keyset import Page, Position, cut, page_query
from records.types import utcnow


def upsert_customer(engine: Engine, external_ref: str, name: str) -> tuple[Customer, bool]:
    """The customer with this external reference, created if new; and whether it was created."""
    with transaction(engine, write=False) as conn:
        existing = find_customer(conn, external_ref=external_ref)
    if existing is not None:
        return existing, False
    try:
        with transaction(engine) as conn:
            return upsert_customer_on(conn, external_ref, name)
    except IntegrityError:  # created by a concurrent request a moment ago
        return upsert_customer(engine, external_ref, name)[0], False


def upsert_customer_on(conn: Connection, external_ref: str, name: str) -> tuple[Customer, bool]:
    """As `upsert_customer`, inside the caller's transaction; a concurrent insert of this
    reference is an IntegrityError, for the caller to run again (`records.idempotency`)."""
    existing = find_customer(conn, external_ref=external_ref)
    if existing is not None:
        return existing, False
    now = utcnow()
    customer = Customer(
        id=str(uuid4()), external_ref=external_ref, name=name, created_at=now, updated_at=now
    )
    conn.execute(insert(CUSTOMERS).values(customer_row(customer)))
    return customer, True


def find_customer(
    conn: Connection, *, customer_id: str | None = None, external_ref: str | None = None
) -> Customer | None:
    """The customer with this id (when given), else with this external reference."""
    if customer_id is not None:
        condition = CUSTOMERS.c.id == customer_id
    else:
        condition = CUSTOMERS.c.external_ref == external_ref
    row = conn.execute(customer_query().where(condition)).mappings().first()
    return None if row is None else customer_of(row)


def list_customers(engine: Engine) -> list[Customer]:
    """Every customer, oldest first."""
    with engine.connect() as conn:
        rows = conn.execute(customer_query().order_by(CUSTOMERS.c.created_at)).mappings()
        return [customer_of(row) for row in rows]


def page_customers(engine: Engine, after: Position | None, limit: int) -> Page:
    """A page of customers with their usage, newest first."""
    with engine.connect() as conn:
        rows = conn.execute(page_query(CUSTOMERS, customer_query(), after, limit)).mappings()
        customers = [customer_of(row) for row in rows]
    return cut(customers, [customer_summary(c) for c in customers], limit)


def customer_document(engine: Engine, customer_id: str) -> dict[str, Any] | None:
    """A customer with its usage, as the internal API shows it."""
    with engine.connect() as conn:
        return customer_document_on(conn, customer_id)


def customer_by_ref(engine: Engine, external_ref: str) -> Customer | None:
    with engine.connect() as conn:
        return find_customer(conn, external_ref=external_ref)
