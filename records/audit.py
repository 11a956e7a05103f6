"""The audit log of the operator dashboard: who did what, when, to how many."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import BigInteger, Column, Engine, Integer, String, Table, Text, insert, select

from config.database import transaction
from records.metadata import metadata
from records.types import UTCDateTime, utcnow

SEQUENCE = BigInteger().with_variant(Integer(), "sqlite")
MAX_DETAIL_CHARS = 2000


# One action an operator took in the dashboard (or tried to, when `outcome` says so).
AUDIT = Table(
    "admin_audit",
    metadata,
    Column("id", SEQUENCE, primary_key=True),
    Column("at", UTCDateTime(), nullable=False),
    Column("actor", String(255), nullable=False),
    Column("action", String(64), nullable=False),
    Column("target", Text),
    Column("count", Integer, nullable=False),
    Column("outcome", String(20), nullable=False),
    Column("detail", Text),
)


@dataclass(slots=True, kw_only=True)
class AuditEntry:
    """A stored entry of the audit log: `AuditEntry(**row)`."""

    id: int | None = None
    at: datetime
    actor: str
    action: str
    target: str | None = None
    count: int = 0
    outcome: str
    detail: str | None = None


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """What an action was, before it is stored."""

    actor: str
    action: str
    target: str | None
    count: int
    outcome: str = "done"
    detail: str | None = None


def record_action(engine: Engine, entry: AuditRecord) -> int:
    """Store one entry of the audit log; its id."""
    detail = entry.detail[:MAX_DETAIL_CHARS] if entry.detail else None
    with transaction(engine) as conn:
        result = conn.execute(
            insert(AUDIT).values(
                at=utcnow(),
                actor=entry.actor[:255],
                action=entry.action,
                target=entry.target,
                count=entry.count,
                outcome=entry.outcome,
                detail=detail,
            )
        )
        [new_id] = result.inserted_primary_key or (0,)
    return int(new_id)


def audit_page(engine: Engine, before_id: int | None, limit: int) -> list[AuditEntry]:
    """Entries newest first, `limit` of them, older than `before_id` when given (keyset)."""
    query = select(AUDIT).order_by(AUDIT.c.id.desc()).limit(limit)
    if before_id is not None:
        query = query.where(AUDIT.c.id < before_id)
    with engine.connect() as conn:
        return [AuditEntry(**row) for row in conn.execute(query).mappings()]
