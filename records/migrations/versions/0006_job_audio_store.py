"""jobs: which store holds the audio, and when retention pruned it

`audio_path` becomes the object's key in that store. Audio stored before this revision is
on the local disk (AUDIO_DIR), so those rows are marked `local`; `voicehook storage migrate`
moves them to a bucket and repoints them.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("audio_store", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("audio_pruned_at", sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE jobs SET audio_store = 'local' WHERE audio_path IS NOT NULL")


def downgrade() -> None:
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_column("audio_pruned_at")
        batch_op.drop_column("audio_store")
