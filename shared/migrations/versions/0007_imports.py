"""Imports as jobs, their findings, quarantined addresses and the default grid

An import job's row in `batches` (kind "import") gives it its turn in the submission order.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05 03:21:12.365090
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "quarantined_addresses",
        sa.Column("subject_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("channel", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("why", sa.Text(), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("subject_id", "channel", name=op.f("pk_quarantined_addresses")),
    )
    op.create_table(
        "default_grid",
        sa.Column("channel", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("mask", sa.SmallInteger(), nullable=False),
        sa.Column("updated_by", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["updated_by"], ["users.id"], name=op.f("fk_default_grid_updated_by_users")
        ),
        sa.PrimaryKeyConstraint("channel", name=op.f("pk_default_grid")),
    )
    op.create_table(
        "imports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("format", sa.String(length=16), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("upload", sa.LargeBinary(), nullable=True),
        sa.Column("files_done", sa.Integer(), nullable=False),
        sa.Column("rows_done", sa.Integer(), nullable=False),
        sa.Column("report", sa.JSON(), nullable=True),
        sa.Column("quarantined", sa.Integer(), nullable=False),
        sa.Column("skipped", sa.Integer(), nullable=False),
        sa.Column("errors", sa.JSON(), nullable=False),
        sa.Column("version", sa.String(length=8), nullable=True),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["batches.id"], name=op.f("fk_imports_batch_id_batches")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_imports")),
        sa.UniqueConstraint("batch_id", name=op.f("uq_imports_batch_id")),
    )
    op.create_table(
        "import_findings",
        sa.Column("import_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("file", sa.String(length=64), nullable=False),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("column", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("why", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["import_id"],
            ["imports.id"],
            name=op.f("fk_import_findings_import_id_imports"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("import_id", "seq", name=op.f("pk_import_findings")),
    )


def downgrade() -> None:
    op.drop_table("import_findings")
    op.drop_table("imports")
    op.drop_table("default_grid")
    op.drop_table("quarantined_addresses")
