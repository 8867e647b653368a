"""The per-batch tables without foreign keys to batches; targets and households keyed by chunk

A batch is never deleted, and checking the key row by row cost a third of the time of writing
a chunk's change log. Targets and households are read by chunk only: a key that starts with
the chunk replaces the key and the chunk index, one index to write per row instead of two.

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

TABLES = (("batch_targets", "person_id"), ("batch_households", "household_id"))


def upgrade() -> None:
    for table, member in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(batch_op.f(f"fk_{table}_batch_id_batches"), type_="foreignkey")
            batch_op.drop_index(f"ix_{table}_chunk")
            batch_op.drop_constraint(batch_op.f(f"pk_{table}"), type_="primary")
            batch_op.create_primary_key(batch_op.f(f"pk_{table}"), ["batch_id", "chunk_no", member])
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
    for table, member in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(batch_op.f(f"pk_{table}"), type_="primary")
            batch_op.create_primary_key(batch_op.f(f"pk_{table}"), ["batch_id", member])
            batch_op.create_index(f"ix_{table}_chunk", ["batch_id", "chunk_no"], unique=False)
            batch_op.create_foreign_key(
                batch_op.f(f"fk_{table}_batch_id_batches"),
                "batches",
                ["batch_id"],
                ["id"],
                ondelete="CASCADE",
            )
