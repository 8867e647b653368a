"""How many times each plan and each chunk was started

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 16:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("batches", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("plan_attempts", sa.Integer(), server_default="0", nullable=False)
        )
    with op.batch_alter_table("batch_chunks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("attempts", sa.Integer(), server_default="0", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("batch_chunks", schema=None) as batch_op:
        batch_op.drop_column("attempts")
    with op.batch_alter_table("batches", schema=None) as batch_op:
        batch_op.drop_column("plan_attempts")
