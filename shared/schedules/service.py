"""Schedules: make, read, change, pause and resume, delete (docs/schedules.md).

A district admin manages every schedule; a school admin those whose template lies within their
schools (the rules of their batches: never census, never the whole district, their own filters);
a viewer reads (web/access.py). Each change is audited. A change applies to future runs only.
"""

from datetime import datetime
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.access.audit import record_audit
from shared.access.reach import Reach, ensure_batch_request_allowed, reach_of
from shared.batches.request import BatchTemplate
from shared.batches.submit import check_template
from shared.core.errors import Forbidden, InvalidRequest, NotFound
from shared.models import Filter, Schedule, User
from shared.schedules.request import SchedulePatch, ScheduleRequest
from shared.schedules.rules import rule_to_json

ACTION_CREATE: Final = "schedule.create"
ACTION_UPDATE: Final = "schedule.update"
ACTION_PAUSE: Final = "schedule.pause"
ACTION_RESUME: Final = "schedule.resume"
ACTION_DELETE: Final = "schedule.delete"


def create_schedule(
    session: Session, request: ScheduleRequest, *, user: User | None, now: datetime
) -> Schedule:
    _check(session, request.template, user)
    schedule = Schedule(
        name=request.name,
        template=request.template.stored(),
        filter_id=request.template.filter_id,
        rule=rule_to_json(request.rule.rule()),
        enabled=request.enabled,
        catch_up_hours=request.catch_up_hours,
        owner_id=user.id if user else None,
        created_at=now,
        due_after=now,
    )
    session.add(schedule)
    session.flush()
    _hold_filter(session, schedule)
    _audit(session, user, ACTION_CREATE, schedule)
    return schedule


def visible_schedule(
    session: Session, schedule_id: int, user: User | None, *, for_update: bool = False
) -> Schedule:
    """The schedule, unless deleted, if the user may reach it (a school admin: one within
    their schools)."""
    schedule = session.get(Schedule, schedule_id, with_for_update=for_update)
    if schedule is None or schedule.deleted_at is not None:
        raise NotFound(f"no schedule {schedule_id}")
    if not within_reach(session, reach_of(session, user), schedule):
        raise Forbidden(f"schedule {schedule_id} is not within your schools")
    return schedule


def list_schedules(session: Session, *, user: User | None) -> list[Schedule]:
    """The schedules the user may see, by name."""
    reach = reach_of(session, user)
    schedules = session.scalars(
        select(Schedule).where(Schedule.deleted_at.is_(None)).order_by(Schedule.name, Schedule.id)
    )
    return [each for each in schedules if within_reach(session, reach, each)]


def update_schedule(
    session: Session, schedule_id: int, patch: SchedulePatch, *, user: User | None, now: datetime
) -> Schedule:
    """Change the fields given. A new template makes the user its owner; a new rule, or
    resuming, counts due times from now on."""
    schedule = visible_schedule(session, schedule_id, user, for_update=True)
    changed = sorted(patch.model_dump(by_alias=True, exclude_none=True))
    if patch.name is not None:
        schedule.name = patch.name
    if patch.template is not None:
        _check(session, patch.template, user)
        schedule.template = patch.template.stored()
        schedule.filter_id = patch.template.filter_id
        schedule.owner_id = user.id if user else None
    if patch.rule is not None:
        rule = rule_to_json(patch.rule.rule())
        if rule != schedule.rule:
            schedule.rule = rule
            schedule.due_after = max(schedule.due_after, now)
    if patch.catch_up_hours is not None:
        schedule.catch_up_hours = patch.catch_up_hours
    action = ACTION_UPDATE
    if patch.enabled is not None and patch.enabled != schedule.enabled:
        schedule.enabled = patch.enabled
        action = ACTION_RESUME if patch.enabled else ACTION_PAUSE
        if patch.enabled:
            schedule.due_after = max(schedule.due_after, now)
    _hold_filter(session, schedule)
    _audit(session, user, action, schedule, changed=changed)
    return schedule


def delete_schedule(
    session: Session, schedule_id: int, *, user: User | None, now: datetime
) -> None:
    """Delete the schedule: it never runs again; its runs and their batches stay."""
    schedule = visible_schedule(session, schedule_id, user, for_update=True)
    schedule.deleted_at = now
    schedule.enabled = False
    _audit(session, user, ACTION_DELETE, schedule)


def within_reach(session: Session, reach: Reach, schedule: Schedule) -> bool:
    """Whether the schedule's template lies within the reach (a school admin's schools)."""
    if reach.school_ids is None:
        return True
    template: dict[str, Any] = schedule.template
    scope = template.get("scope") or {}
    owner = session.scalar(select(Filter.owner_id).where(Filter.id == schedule.filter_id))
    try:
        ensure_batch_request_allowed(
            session,
            reach,
            mode=template.get("mode", ""),
            school_ext_id=scope.get("schoolId"),
            calendar_ext_id=scope.get("calendarId"),
            filter_id=schedule.filter_id,
            filter_owner_id=owner,
        )
    except Forbidden:
        return False
    return True


def _check(session: Session, template: BatchTemplate, user: User | None) -> None:
    """The template's scope and filter exist and the user may use them; errors name the
    template's fields."""
    try:
        check_template(session, template, user)
    except InvalidRequest as error:
        raise InvalidRequest(error.message, field=f"template.{error.field}") from None


def _hold_filter(session: Session, schedule: Schedule) -> None:
    """An enabled schedule's filter cannot be deleted: its row is locked until this commits, so
    a deletion at the same moment waits, then sees the schedule (filters.service)."""
    if schedule.enabled and schedule.filter_id is not None:
        session.execute(select(Filter.id).where(Filter.id == schedule.filter_id).with_for_update())


def _audit(
    session: Session, user: User | None, action: str, schedule: Schedule, **detail: Any
) -> None:
    record_audit(
        session,
        username=user.username if user else None,
        action=action,
        subject=f"schedule:{schedule.id}",
        detail={"name": schedule.name, **detail},
    )
