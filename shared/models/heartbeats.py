"""Heartbeats: the last moment a process showed it was alive, where the other processes can
read it. Beat's scheduler writes `beat` as it ticks (worker/beat.py); the web's health report
reads it."""

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from shared.models.base import Base, UtcDateTime


class Heartbeat(Base):
    __tablename__ = "heartbeats"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime())
