"""Scheduled batches and their runs (docs/schedules.md).

A run is one due time of one schedule, claimed once: `(schedule_id, due_at)` is unique, and the
row is written in the transaction that creates the run's batch, so two beats, a restart or a
duplicated tick can never make a second batch for the same due time.
"""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from shared.core.vocabulary import RunStatus
from shared.models.base import Base, EnumText, UtcDateTime, utcnow


class Schedule(Base):
    __tablename__ = "schedules"
    __table_args__ = (Index("ix_schedules_enabled", "enabled", "deleted_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    # A batch request without asOf and dryRun, as the API writes it (camelCase).
    template: Mapped[dict[str, Any]] = mapped_column(JSON)
    # The template's filter, as a column: an enabled schedule's filter cannot be deleted.
    filter_id: Mapped[int | None] = mapped_column(
        ForeignKey("filters.id", ondelete="SET NULL"), index=True
    )
    rule: Mapped[dict[str, Any]] = mapped_column(JSON)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    catch_up_hours: Mapped[float] = mapped_column(Float, default=6.0)
    # Whose rights each run is submitted with: whoever last set the template.
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    # Due times at or before this have their run record, or are not wanted: set to the moment
    # the schedule is created, resumed, or its rule changed (future runs only), and moved on to
    # each due time the tick records.
    due_after: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    # Deleting keeps the row, so that its runs and their batches keep their schedule.
    deleted_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class ScheduleRun(Base):
    __tablename__ = "schedule_runs"
    __table_args__ = (UniqueConstraint("schedule_id", "due_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    schedule_id: Mapped[int] = mapped_column(ForeignKey("schedules.id"))
    due_at: Mapped[datetime] = mapped_column(UtcDateTime())
    status: Mapped[RunStatus] = mapped_column(EnumText(RunStatus, 8))
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("batches.id"), unique=True)
    reason: Mapped[str | None] = mapped_column(Text)
    # Run now: who asked (None for a run beat claimed).
    requested_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
