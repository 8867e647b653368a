from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from shared.core.vocabulary import FilterKind
from shared.models.base import Base, EnumText, UtcDateTime, utcnow


class Filter(Base):
    """A saved ad hoc filter: structured criteria (docs/batches.md, "Filters"), never SQL."""

    __tablename__ = "filters"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[FilterKind] = mapped_column(EnumText(FilterKind, 8))
    criteria: Mapped[dict[str, Any]] = mapped_column(JSON)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
