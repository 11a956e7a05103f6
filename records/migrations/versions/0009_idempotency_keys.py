"""idempotency keys, jobs' externalRef and metadata, list indexes

The internal API's intake the app can retry (issue 15): the first answer to each
(operation, Idempotency-Key); a job's `external_ref` (unique per customer) and
`app_metadata`; indexes for the keyset pagination of jobs, customers and voices.
Engineer A's 0008 is built beside this one; the integrator re-chains the two.

Revision ID: 0009
Revises: 0007
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LIST_INDEXES = {
    "ix_jobs_created_at_id": ("jobs", ["created_at", "id"]),
    "ix_jobs_customer_created_at_id": ("jobs", ["customer_id", "created_at", "id"]),
    "ix_jobs_status_created_at_id": ("jobs", ["status", "created_at", "id"]),
    "ix_customers_created_at_id": ("customers", ["created_at", "id"]),
    "ix_voices_created_at_id": ("voices", ["created_at", "id"]),
}


def upgrade() -> None:
    op.create_table(
        "idempotency_keys",
        sa.Column("operation", sa.String(length=64), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("request_sha256", sa.String(length=64), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("location", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("operation", "key"),
    )
    op.create_index("ix_idempotency_keys_created_at", "idempotency_keys", ["created_at"])
    op.add_column("jobs", sa.Column("external_ref", sa.String(length=255), nullable=True))
    op.add_column("jobs", sa.Column("app_metadata", sa.JSON(), nullable=True))
    op.create_index(
        "ux_jobs_customer_external_ref", "jobs", ["customer_id", "external_ref"], unique=True
    )
    for name, (table, columns) in LIST_INDEXES.items():
        op.create_index(name, table, columns)


def downgrade() -> None:
    for name, (table, _) in LIST_INDEXES.items():
        op.drop_index(name, table_name=table)
    op.drop_index("ux_jobs_customer_external_ref", table_name="jobs")
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("app_metadata")
        batch.drop_column("external_ref")
    op.drop_index("ix_idempotency_keys_created_at", table_name="idempotency_keys")
    op.drop_table("idempotency_keys")
