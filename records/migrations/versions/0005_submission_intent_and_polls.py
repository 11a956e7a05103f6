"""submission intent and reconciliation polls on attempts

`intent_at` is when a submission was about to call `POST /v1/generations`: with it, a
generation whose answer was lost can be matched to the attempt that made it. `polls` counts
reconciliation polls (`next_poll_at` is when the next is due), so a generation is polled a bounded number of times, backing off;
`download_failures` counts failed downloads of its audio, retried with a backoff.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("attempts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("intent_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("polls", sa.Integer(), nullable=False, server_default=sa.text("0"))
        )
        batch_op.add_column(sa.Column("next_poll_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column(
                "download_failures", sa.Integer(), nullable=False, server_default=sa.text("0")
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("attempts", schema=None) as batch_op:
        batch_op.drop_column("download_failures")
        batch_op.drop_column("next_poll_at")
        batch_op.drop_column("polls")
        batch_op.drop_column("intent_at")
