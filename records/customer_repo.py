"""Customers: created once per external reference, read, and their usage counted."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any
from uuid import uuid4

from sqlalchemy import Connection, Engine, Update, insert, select, update
from sqlalchemy.exc import IntegrityError

from config.database import transaction
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
    conn.execute(insert(CUSTOMERS).values(asdict(customer)))
    return customer, True


def find_customer(
    conn: Connection, *, customer_id: str | None = None, external_ref: str | None = None
) -> Customer | None:
    """The customer with this id (when given), else with this external reference."""
    if customer_id is not None:
        condition = CUSTOMERS.c.id == customer_id
    else:
        condition = CUSTOMERS.c.external_ref == external_ref
    row = conn.execute(select(CUSTOMERS).where(condition)).mappings().first()
    return None if row is None else Customer(**row)


def list_customers(engine: Engine) -> list[Customer]:
    """Every customer, oldest first."""
    with engine.connect() as conn:
        rows = conn.execute(select(CUSTOMERS).order_by(CUSTOMERS.c.created_at)).mappings()
        return [Customer(**row) for row in rows]


def page_customers(engine: Engine, after: Position | None, limit: int) -> Page:
    """A page of customers with their usage, newest first."""
    with engine.connect() as conn:
        rows = conn.execute(page_query(CUSTOMERS, select(CUSTOMERS), after, limit)).mappings()
        customers = [Customer(**row) for row in rows]
    return cut(customers, [customer_summary(c) for c in customers], limit)


def count_ready(
    conn: Connection, customer_id: str | None, seconds: float, credits: int, now: datetime
) -> None:
    """A job of the customer became ready: its audio seconds and credits are counted."""
    if customer_id is None:
        return
    conn.execute(counting_ready(customer_id, seconds, credits, now))


def counting_ready(customer_id: str, seconds: float, credits: int, now: datetime) -> Update:
    """The statement `count_ready` runs (for a caller that makes it part of another)."""
    return (
        update(CUSTOMERS)
        .where(CUSTOMERS.c.id == customer_id)
        .values(
            audio_seconds=CUSTOMERS.c.audio_seconds + seconds,
            credits_spent=CUSTOMERS.c.credits_spent + credits,
            jobs_ready=CUSTOMERS.c.jobs_ready + 1,
            updated_at=now,
        )
    )


def count_failed(conn: Connection, customer_id: str | None, now: datetime) -> None:
    """A job of the customer failed for good."""
    if customer_id is None:
        return
    conn.execute(
        update(CUSTOMERS)
        .where(CUSTOMERS.c.id == customer_id)
        .values(jobs_failed=CUSTOMERS.c.jobs_failed + 1, updated_at=now)
    )


def uncount_failed_job(conn: Connection, customer_id: str | None, now: datetime) -> None:
    """A failed job of the customer is being retried: it no longer counts as failed."""
    if customer_id is None:
        return
    conn.execute(
        update(CUSTOMERS)
        .where(CUSTOMERS.c.id == customer_id, CUSTOMERS.c.jobs_failed > 0)
        .values(jobs_failed=CUSTOMERS.c.jobs_failed - 1, updated_at=now)
    )


def customer_document(engine: Engine, customer_id: str) -> dict[str, Any] | None:
    """A customer with its usage, as the internal API shows it."""
    with engine.connect() as conn:
        return customer_document_on(conn, customer_id)


def customer_by_ref(engine: Engine, external_ref: str) -> Customer | None:
    with engine.connect() as conn:
        return find_customer(conn, external_ref=external_ref)
