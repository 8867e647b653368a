"""Whom a batch reached: people and households per chunk, summed on the batch

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05 23:05:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH_COLUMNS = ("reached_people", "reached_households", "skipped_no_address")
CHUNK_COLUMNS = ("people", "reached_people", "reached_households")


def upgrade() -> None:
    with op.batch_alter_table("batches", schema=None) as batch_op:
        for name in BATCH_COLUMNS:
            batch_op.add_column(sa.Column(name, sa.Integer(), nullable=True))
    with op.batch_alter_table("batch_chunks", schema=None) as batch_op:
        for name in CHUNK_COLUMNS:
            batch_op.add_column(sa.Column(name, sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("batch_chunks", schema=None) as batch_op:
        for name in reversed(CHUNK_COLUMNS):
            batch_op.drop_column(name)
    with op.batch_alter_table("batches", schema=None) as batch_op:
        for name in reversed(BATCH_COLUMNS):
            batch_op.drop_column(name)
