"""The audit log of the operator dashboard: who did what, when, to how many."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import BigInteger, Column, Engine, Integer, String, Table, Text, insert, select
from sqlmodel import Field, SQLModel

from config.database import transaction
from records.types import UTCDateTime, utcnow

SEQUENCE = BigInteger().with_variant(Integer(), "sqlite")
MAX_DETAIL_CHARS = 2000


class AuditEntry(SQLModel, table=True):
    """One action an operator took in the dashboard (or tried to, when `outcome` says so)."""

    __tablename__ = "admin_audit"
    id: int | None = Field(default=None, sa_column=Column(SEQUENCE, primary_key=True))
    at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    actor: str = Field(sa_column=Column(String(255), nullable=False))
    action: str = Field(sa_column=Column(String(64), nullable=False))
    target: str | None = Field(default=None, sa_column=Column(Text))
    count: int = Field(default=0, sa_column=Column(Integer, nullable=False))
    outcome: str = Field(sa_column=Column(String(20), nullable=False))
    detail: str | None = Field(default=None, sa_column=Column(Text))


AUDIT: Table = SQLModel.metadata.tables["admin_audit"]


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
        return [AuditEntry.model_validate(dict(row)) for row in conn.execute(query).mappings()]
