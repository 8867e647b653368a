"""Schedules for the tests: made through the service with the clock passed in, ticked, and read
back as their runs."""

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from shared.core.contract import parse
from shared.core.db import SessionFactory
from shared.models import Schedule, ScheduleRun, User
from shared.schedules.request import SchedulePatch, ScheduleRequest
from shared.schedules.service import create_schedule, update_schedule
from shared.schedules.tick import TickReport, tick

CHICAGO = ZoneInfo("America/Chicago")
RESET = {
    "mode": "studentContact",
    "scope": {"schoolYear": "2025-26"},
    "changes": {"email": {"emergency": "on", "attendance": "on", "priority": "on"}},
}


def local(text: str, zone: ZoneInfo = CHICAGO) -> datetime:
    """An aware moment from a local wall time in `zone` (not in a DST gap or fold)."""
    return datetime.fromisoformat(text).replace(tzinfo=zone)


def make_schedule(
    factory: SessionFactory, now: datetime, *, username: str | None = "admin", **fields: Any
) -> int:
    body = {"name": "reset", "template": RESET, "rule": {"cron": "0 2 * * *"}} | fields
    with factory.begin() as session:
        user = _user(session, username)
        return create_schedule(session, parse(ScheduleRequest, body), user=user, now=now).id


def patch_schedule(
    factory: SessionFactory, schedule_id: int, now: datetime, username: str = "admin", **fields: Any
) -> None:
    with factory.begin() as session:
        user = _user(session, username)
        update_schedule(session, schedule_id, parse(SchedulePatch, fields), user=user, now=now)


def tick_at(factory: SessionFactory, now: datetime, zone: ZoneInfo = CHICAGO) -> TickReport:
    return tick(factory, now, zone)


def runs_of(
    factory: SessionFactory, schedule_id: int, zone: ZoneInfo = CHICAGO
) -> list[tuple[str, str, bool, str | None]]:
    """(local due time, status, has a batch, reason) of each run, oldest first."""
    with factory() as session:
        runs = session.scalars(
            select(ScheduleRun)
            .where(ScheduleRun.schedule_id == schedule_id)
            .order_by(ScheduleRun.due_at)
        )
        return [
            (
                run.due_at.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z"),
                str(run.status),
                run.batch_id is not None,
                run.reason,
            )
            for run in runs
        ]


def schedule_row(factory: SessionFactory, schedule_id: int) -> Schedule:
    with factory() as session:
        schedule = session.get_one(Schedule, schedule_id)
        session.expunge(schedule)
        return schedule


def _user(session: Any, username: str | None) -> User | None:
    if username is None:
        return None
    return session.scalars(select(User).where(User.username == username)).one()
