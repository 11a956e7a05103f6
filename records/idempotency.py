"""Answering a creating request once per Idempotency-Key.

The key's row is inserted first in the transaction that creates the resource, and its
answer written there too: the (operation, key) primary key makes a concurrent request with
the same key wait on that insert (PostgreSQL's unique index; SQLite's `BEGIN IMMEDIATE`)
and then find the first answer committed — never a second resource. A creation that fails
(an unknown customer, an externalRef clash) rolls the key back with it, so only answers of
resources that exist are kept; retrying such a request asks again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from config.database import transaction
from records.errors import IdempotencyKeyReused
from records.idempotency_tables import IDEMPOTENCY_KEYS
from records.types import utcnow

# A clash on a unique index (this key's, or the resource's own such as a job's externalRef)
# is settled by running again: the second run sees the row that won.
RUNS = 3


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict[str, Any]
    location: str | None = None


@dataclass(frozen=True)
class IdempotencyClaim:
    operation: str  # e.g. "POST /api/jobs"
    key: str
    request_sha256: str  # of the request's canonical body


def answer_once(
    engine: Engine, claim: IdempotencyClaim | None, create: Callable[[Connection], Answer]
) -> tuple[Answer, bool]:
    """The answer of `create` run in one transaction, or the one stored under the claim's
    key; and whether it was stored (a replay). IdempotencyKeyReused if the key was used
    with another body."""
    runs = 0
    while True:
        runs += 1
        if claim is not None:
            stored = stored_answer(engine, claim)
            if stored is not None:
                return stored, True
        try:
            with transaction(engine) as conn:
                if claim is not None:
                    _take_key(conn, claim)
                answer = create(conn)
                if claim is not None:
                    _keep_answer(conn, claim, answer)
            return answer, False
        except IntegrityError:
            if runs >= RUNS:
                raise


def stored_answer(engine: Engine, claim: IdempotencyClaim) -> Answer | None:
    """The answer kept under the claim's key, None if there is none."""
    with engine.connect() as conn:
        row = conn.execute(
            select(IDEMPOTENCY_KEYS).where(
                IDEMPOTENCY_KEYS.c.operation == claim.operation,
                IDEMPOTENCY_KEYS.c.key == claim.key,
            )
        ).first()
    if row is None:
        return None
    if row.request_sha256 != claim.request_sha256:
        raise IdempotencyKeyReused(claim.key)
    return Answer(status=row.status, body=dict(row.body), location=row.location)


def prune_keys(engine: Engine, created_before: datetime) -> int:
    """Delete the keys created before `created_before`; how many went."""
    with transaction(engine) as conn:
        result = conn.execute(
            delete(IDEMPOTENCY_KEYS).where(IDEMPOTENCY_KEYS.c.created_at < created_before)
        )
    return int(result.rowcount or 0)


def _take_key(conn: Connection, claim: IdempotencyClaim) -> None:
    conn.execute(
        insert(IDEMPOTENCY_KEYS).values(
            operation=claim.operation,
            key=claim.key,
            request_sha256=claim.request_sha256,
            status=0,  # until `_keep_answer`, in this same transaction
            body={},
            created_at=utcnow(),
        )
    )


def _keep_answer(conn: Connection, claim: IdempotencyClaim, answer: Answer) -> None:
    conn.execute(
        update(IDEMPOTENCY_KEYS)
        .where(IDEMPOTENCY_KEYS.c.operation == claim.operation, IDEMPOTENCY_KEYS.c.key == claim.key)
        .values(status=answer.status, body=answer.body, location=answer.location)
    )
