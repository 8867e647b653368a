"""Heartbeats (shared/models/heartbeats.py): a process records the moment it was last alive under
its name, and any other process reads it. Beat records `beat` as its scheduler ticks; the web's
health report and /metrics read it."""

from datetime import datetime
from typing import Final

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from shared.core.db import rowcount
from shared.models import Heartbeat

BEAT: Final = "beat"


def record_heartbeat(session: Session, name: str, at: datetime) -> None:
    """`name` was alive at `at` (one row per name, written over)."""
    if not rowcount(session, update(Heartbeat).where(Heartbeat.name == name).values(at=at)):
        session.add(Heartbeat(name=name, at=at))


def last_heartbeat(session: Session, name: str) -> datetime | None:
    """When `name` was last alive, in UTC; None if it never recorded a heartbeat."""
    return session.scalar(select(Heartbeat.at).where(Heartbeat.name == name))
