"""The per-batch tables (targets, households, change log) without foreign keys to batches

A batch is never deleted, and checking the key row by row cost a third of the time of writing
a chunk's change log.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 18:27:14.098056
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("batch_households", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_batch_households_batch_id_batches"), type_="foreignkey"
        )

    with op.batch_alter_table("batch_targets", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_batch_targets_batch_id_batches"), type_="foreignkey"
        )

    with op.batch_alter_table("change_log", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_change_log_batch_id_batches"), type_="foreignkey")


def downgrade() -> None:
    with op.batch_alter_table("change_log", schema=None) as batch_op:
        batch_op.create_foreign_key(
            batch_op.f("fk_change_log_batch_id_batches"),
            "batches",
            ["batch_id"],
            ["id"],
            ondelete="CASCADE",
        )

    with op.batch_alter_table("batch_targets", schema=None) as batch_op:
        batch_op.create_foreign_key(
            batch_op.f("fk_batch_targets_batch_id_batches"),
            "batches",
            ["batch_id"],
            ["id"],
            ondelete="CASCADE",
        )

    with op.batch_alter_table("batch_households", schema=None) as batch_op:
        batch_op.create_foreign_key(
            batch_op.f("fk_batch_households_batch_id_batches"),
            "batches",
            ["batch_id"],
            ["id"],
            ondelete="CASCADE",
        )
