"""customer usage in shards: `customer_usage` rows instead of the customer's own columns

Every job of a customer that became ready or failed updated the customer's row, so the
completions of one customer's jobs waited for each other's commit (issue 17, the drain
bench). Usage is now counted in up to 16 rows per customer (`records.customer_usage`) and
read as their sum; the counts so far move to shard 0.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COUNTERS = (
    ("audio_seconds", sa.Float()),
    ("credits_spent", sa.Integer()),
    ("jobs_ready", sa.Integer()),
    ("jobs_failed", sa.Integer()),
)


def upgrade() -> None:
    op.create_table(
        "customer_usage",
        sa.Column("customer_id", sa.String(length=36), nullable=False),
        sa.Column("shard", sa.Integer(), nullable=False),
        *(sa.Column(name, kind, nullable=False) for name, kind in COUNTERS),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"]),
        sa.PrimaryKeyConstraint("customer_id", "shard"),
    )
    op.execute(
        "INSERT INTO customer_usage (customer_id, shard, audio_seconds, credits_spent,"
        " jobs_ready, jobs_failed, updated_at) SELECT id, 0, audio_seconds, credits_spent,"
        " jobs_ready, jobs_failed, updated_at FROM customers"
    )
    # Natively (SQLite 3.35 and later too): a batch would recreate `customers`, which
    # SQLite refuses while jobs, voices and usage rows refer to it.
    for name, _ in COUNTERS:
        op.execute(f"ALTER TABLE customers DROP COLUMN {name}")


def downgrade() -> None:
    # The columns come back with a server default of 0 (removing it would recreate the
    # table, as above).
    for name, kind in COUNTERS:
        op.add_column("customers", sa.Column(name, kind, nullable=False, server_default="0"))
    usage = sa.table(
        "customer_usage", sa.column("customer_id"), *(sa.column(name) for name, _ in COUNTERS)
    )
    customers = sa.table("customers", sa.column("id"), *(sa.column(name) for name, _ in COUNTERS))
    op.execute(
        customers.update().values(
            {
                name: sa.func.coalesce(
                    sa.select(sa.func.sum(usage.c[name]))
                    .where(usage.c.customer_id == customers.c.id)
                    .scalar_subquery(),
                    0,
                )
                for name, _ in COUNTERS
            }
        )
    )
    op.drop_table("customer_usage")
