"""deliveries.remote_addr as text; deliveries.body_of for duplicates sharing a body

A `VARCHAR(64)` overflowed on a long `X-Forwarded-For` entry, and on PostgreSQL that failed
the commit of every delivery batched with it. `body_of`: a duplicate whose bytes equal a
stored body points at that delivery instead of holding a copy (300 replays of a 200 KB body
grew the database by 57 MB).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.alter_column(
            "remote_addr", existing_type=sa.String(length=64), type_=sa.Text(), nullable=True
        )
        batch_op.add_column(sa.Column("body_of", sa.Integer(), nullable=True))


def downgrade() -> None:
    # Longer addresses are cut to fit the old column; shared bodies are copied back.
    op.execute("UPDATE deliveries SET remote_addr = substr(remote_addr, 1, 64)")
    op.execute(
        "UPDATE deliveries SET body = (SELECT d.body FROM deliveries d "
        "WHERE d.id = deliveries.body_of) WHERE body_of IS NOT NULL"
    )
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_column("body_of")
        batch_op.alter_column(
            "remote_addr", existing_type=sa.Text(), type_=sa.String(length=64), nullable=True
        )
