"""Imports run as jobs, what they found, the addresses in quarantine, and the default grid.

An import job takes its turn among the batches: its row in `batches` (kind `import`) gives it
its place in the one submission order, so a batch submitted before it applies before it and one
submitted after it waits for it. The upload is kept in the database until the import has run, so
a worker on another machine can read it, and is then cleared.
"""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, LargeBinary, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, deferred, mapped_column

from shared.models.base import Base, UtcDateTime, utcnow


class ImportJob(Base):
    __tablename__ = "imports"

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id"), unique=True)
    format: Mapped[str] = mapped_column(String(16))
    filename: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(Integer)
    upload: Mapped[bytes | None] = deferred(mapped_column(LargeBinary))
    files_done: Mapped[int] = mapped_column(Integer, default=0)
    rows_done: Mapped[int] = mapped_column(Integer, default=0)
    # {file: {added, updated, unchanged, ended}}, once it succeeded.
    report: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    quarantined: Mapped[int] = mapped_column(Integer, default=0)
    skipped: Mapped[int] = mapped_column(Integer, default=0)
    # The structural problems that stopped it (`file:line: column: what is wrong`), or why its
    # worker could not run it; empty if it succeeded.
    errors: Mapped[list[str]] = mapped_column(JSON, default=list)
    version: Mapped[str | None] = mapped_column(String(8))  # OneRoster's


class ImportFinding(Base):
    """A quarantined address or a skipped row of an import, in report order."""

    __tablename__ = "import_findings"

    import_id: Mapped[int] = mapped_column(
        ForeignKey("imports.id", ondelete="CASCADE"), primary_key=True
    )
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    kind: Mapped[str] = mapped_column(String(16))
    file: Mapped[str] = mapped_column(String(64))
    line: Mapped[int] = mapped_column(Integer)
    column: Mapped[str] = mapped_column(String(64))
    value: Mapped[str] = mapped_column(Text)
    why: Mapped[str] = mapped_column(Text)


class QuarantinedAddress(Base):
    """The address the last import gave a subject's channel and quarantined; the subject is a
    household for channel 0 (householdPhone), else a person, as in `preferences`."""

    __tablename__ = "quarantined_addresses"

    subject_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    channel: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    value: Mapped[str] = mapped_column(Text)
    why: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(200))  # `file:line`, and the import's id if a job
    at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class DefaultGrid(Base):
    """The district's defaults for a new address: one row per channel that was set; a channel
    without a row is all off."""

    __tablename__ = "default_grid"

    channel: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    mask: Mapped[int] = mapped_column(SmallInteger, default=0)
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
