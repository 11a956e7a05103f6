"""admin dashboard: audit log, and the indexes its event filters page by

The operator dashboard (issue 16) writes every action to `admin_audit` and pages its lists
by keyset: events by (type, received_at) and by resource (generation) id here; jobs,
customers and voices by the (created_at, id) indexes of 0009. Written as 0008 beside 0009
(the internal API's), re-chained after it when the two branches met.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SEQUENCE = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

INDEXES = (
    ("ix_events_type_received_at", "events", ["type", "received_at"]),
    ("ix_events_resource_id", "events", ["resource_id"]),
)


def upgrade() -> None:
    op.create_table(
        "admin_audit",
        sa.Column("id", SEQUENCE, autoincrement=True, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=255), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("target", sa.Text(), nullable=True),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)


def downgrade() -> None:
    for name, table, _ in INDEXES:
        op.drop_index(name, table_name=table)
    op.drop_table("admin_audit")
