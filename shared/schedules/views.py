"""A schedule and its runs as `GET /api/v1/schedules...` shows them and the pages render them.

Times are RFC 3339 with the district's offset (`2027-08-01T02:00:00-05:00`): the moment is
exact, and reads as the district's wall clock.
"""

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shared.batches.request import BatchTemplate
from shared.core.contract import Moment, View, omitted
from shared.core.vocabulary import RunStatus
from shared.models import Schedule, ScheduleRun, User
from shared.schedules.rules import RuleRequest, describe, next_due_times

NEXT_RUNS = 3


class YearlyView(View):
    month: int
    day: int
    time: str


class RuleView(View):
    """The rule as it was given: exactly one of its three forms."""

    yearly: YearlyView | None = omitted()
    cron: str | None = omitted()
    once: str | None = omitted()


class RunView(View):
    id: int
    due_at: Moment
    status: RunStatus
    batch_id: int | None
    reason: str | None
    # Run now: who asked (absent for the runs beat made).
    requested_by: str | None = None


class ScheduleView(View):
    id: int
    name: str
    template: BatchTemplate
    rule: RuleView
    rule_text: str
    time_zone: str
    enabled: bool
    catch_up_hours: float
    owner: str | None
    # The next due times (none while paused).
    next_runs: list[Moment]
    last_run: RunView | None


def schedule_view(
    session: Session, schedule: Schedule, zone: ZoneInfo, now: datetime
) -> ScheduleView:
    rule = RuleRequest.model_validate(schedule.rule)
    last = session.scalars(
        select(ScheduleRun)
        .where(ScheduleRun.schedule_id == schedule.id)
        .order_by(ScheduleRun.due_at.desc(), ScheduleRun.id.desc())
        .limit(1)
    ).first()
    upcoming: list[datetime] = []
    if schedule.enabled and schedule.deleted_at is None:
        upcoming = next_due_times(rule.rule(), zone, max(now, schedule.due_after), NEXT_RUNS)
    owner = session.get(User, schedule.owner_id) if schedule.owner_id is not None else None
    return ScheduleView(
        id=schedule.id,
        name=schedule.name,
        template=BatchTemplate.model_validate(schedule.template),
        rule=RuleView.model_validate(schedule.rule),
        rule_text=describe(rule.rule()),
        time_zone=zone.key,
        enabled=schedule.enabled,
        catch_up_hours=schedule.catch_up_hours,
        owner=owner.username if owner else None,
        next_runs=[each.astimezone(zone) for each in upcoming],
        last_run=run_view(session, last, zone) if last is not None else None,
    )


def run_view(session: Session, run: ScheduleRun, zone: ZoneInfo) -> RunView:
    asker = session.get(User, run.requested_by) if run.requested_by is not None else None
    return RunView(
        id=run.id,
        due_at=run.due_at.astimezone(zone),
        status=run.status,
        batch_id=run.batch_id,
        reason=run.reason,
        requested_by=asker.username if asker else None,
    )


def list_runs(
    session: Session, schedule: Schedule, zone: ZoneInfo, *, page: int, per_page: int
) -> tuple[list[RunView], int]:
    """A page of the schedule's runs, newest due time first, and how many there are."""
    total = session.scalar(
        select(func.count()).select_from(ScheduleRun).where(ScheduleRun.schedule_id == schedule.id)
    )
    runs = session.scalars(
        select(ScheduleRun)
        .where(ScheduleRun.schedule_id == schedule.id)
        .order_by(ScheduleRun.due_at.desc(), ScheduleRun.id.desc())
        .offset((page - 1) * per_page)
        .limit(per_page)
    )
    return [run_view(session, run, zone) for run in runs], total or 0
