"""Batches, their chunks, the targets materialised for them, and the change log.

A batch's targets are computed once, when it is planned, and stored with their chunk number, so
each chunk can be applied (and re-applied after a redelivery) from the database alone.

The per-batch tables with a row per target, household or change (batch_targets,
batch_households, change_log) have no foreign key to `batches`: a batch is never deleted, and
checking the key cost a third of the time of writing a chunk's change log (docs/benchmarks.md).
Targets and households are read by chunk only, so their key starts with the chunk and they need
no other index.
"""

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Table,
)
from sqlalchemy.orm import Mapped, mapped_column

from shared.core.vocabulary import BatchKind, BatchStatus, Mode
from shared.models.base import Base, EnumText, UtcDateTime, utcnow
from shared.models.preferences import setter_columns


class Batch(Base):
    __tablename__ = "batches"
    __table_args__ = (Index("ix_batches_status_id", "status", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[BatchKind] = mapped_column(EnumText(BatchKind, 8), default=BatchKind.BATCH)
    status: Mapped[BatchStatus] = mapped_column(
        EnumText(BatchStatus, 12), default=BatchStatus.QUEUED
    )
    mode: Mapped[Mode | None] = mapped_column(EnumText(Mode, 16))
    school_year: Mapped[str | None] = mapped_column(String(9))
    school_ext_id: Mapped[str | None] = mapped_column(String(64))
    calendar_ext_id: Mapped[str | None] = mapped_column(String(64))
    filter_id: Mapped[int | None] = mapped_column(ForeignKey("filters.id", ondelete="SET NULL"))
    # The filter's criteria as they were at submission: editing the filter later changes nothing.
    filter_criteria: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    as_of: Mapped[date] = mapped_column(Date)
    changes: Mapped[dict[str, Any]] = mapped_column(JSON)
    keep_guardian_choices: Mapped[bool] = mapped_column(Boolean, default=False)
    dry_run: Mapped[bool] = mapped_column(Boolean, default=False)
    submitted_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    submitted_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    planned: Mapped[bool] = mapped_column(Boolean, default=False)
    # How many times a worker started planning it (see pipeline.start_plan).
    plan_attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    chunks_total: Mapped[int | None] = mapped_column(Integer)
    targets: Mapped[int | None] = mapped_column(Integer)
    errors: Mapped[list[str]] = mapped_column(JSON, default=list)
    counts: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    kept: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # An undo's values left as they were because something changed them after the batch.
    conflicts: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # A batch's reach, summed from its finished chunks (None for an undo or an import).
    reached_people: Mapped[int | None] = mapped_column(Integer)
    reached_households: Mapped[int | None] = mapped_column(Integer)
    skipped_no_address: Mapped[int | None] = mapped_column(Integer)
    undo_of: Mapped[int | None] = mapped_column(ForeignKey("batches.id"), unique=True)
    # A digest of the submitter and the key they sent (or of the preview an apply came from).
    idempotency_key: Mapped[str | None] = mapped_column(String(200), unique=True)


class BatchChunk(Base):
    __tablename__ = "batch_chunks"

    batch_id: Mapped[int] = mapped_column(
        ForeignKey("batches.id", ondelete="CASCADE"), primary_key=True
    )
    chunk_no: Mapped[int] = mapped_column(Integer, primary_key=True)
    done: Mapped[bool] = mapped_column(Boolean, default=False)
    # How many times a worker started it; counted before each start, in a transaction of its
    # own, so a worker that dies in it still counts (see pipeline.start_chunk).
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    enqueued_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    done_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    counts: Mapped[list[list[int]] | None] = mapped_column(JSON)
    kept: Mapped[list[list[int]] | None] = mapped_column(JSON)
    # Set when the chunk is done: its targets, and whom it reached (pipeline.chunk_reach).
    people: Mapped[int | None] = mapped_column(Integer)
    reached_people: Mapped[int | None] = mapped_column(Integer)
    reached_households: Mapped[int | None] = mapped_column(Integer)


batch_targets = Table(
    "batch_targets",
    Base.metadata,
    Column("batch_id", Integer, primary_key=True, autoincrement=False),
    Column("chunk_no", Integer, primary_key=True, autoincrement=False),
    Column("person_id", Integer, primary_key=True, autoincrement=False),
    Column("is_staff", Boolean, nullable=False),
)

# A household with a phone is updated once per batch, in the chunk of one of its targeted members.
batch_households = Table(
    "batch_households",
    Base.metadata,
    Column("batch_id", Integer, primary_key=True, autoincrement=False),
    Column("chunk_no", Integer, primary_key=True, autoincrement=False),
    Column("household_id", Integer, primary_key=True, autoincrement=False),
    Column("is_staff", Boolean, nullable=False),
)

# One row per (batch, preference row) that the batch changed or left for a guardian: the row as it
# was before (mask and setters), the mask after, which reasons changed and which were kept.
change_log = Table(
    "change_log",
    Base.metadata,
    Column("batch_id", Integer, primary_key=True, autoincrement=False),
    Column("channel", SmallInteger, primary_key=True, autoincrement=False),
    Column("subject_id", Integer, primary_key=True, autoincrement=False),
    Column("chunk_no", Integer, nullable=False),
    Column("before_mask", SmallInteger, nullable=False),
    Column("after_mask", SmallInteger, nullable=False),
    Column("changed_mask", SmallInteger, nullable=False),
    Column("kept_mask", SmallInteger, nullable=False),
    *setter_columns(),
    Index("ix_change_log_chunk", "batch_id", "chunk_no"),
)
