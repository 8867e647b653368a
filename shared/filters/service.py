"""Saved ad hoc filters (docs/batches.md, "Filters"): make, read, change, delete.

A school admin reaches their own filters only; anyone else reaches all of them (a viewer only
reads: web/access.py). Each change is audited. Batches keep a copy of the criteria they ran
with, so changing or deleting a filter changes no batch.
"""

from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.access.audit import record_audit
from shared.access.reach import ensure_filter_allowed, filter_reach, reach_of
from shared.core.contract import View
from shared.core.errors import Conflict, NotFound
from shared.core.vocabulary import FilterKind
from shared.filters.criteria import CRITERIA_OF, CensusCriteria, FilterRequest, StudentCriteria
from shared.models import Filter, Schedule, User

ACTION_CREATE: Final = "filter.create"
ACTION_UPDATE: Final = "filter.update"
ACTION_DELETE: Final = "filter.delete"


class FilterView(View):
    id: int
    name: str
    kind: FilterKind
    criteria: StudentCriteria | CensusCriteria


def filter_view(saved: Filter) -> FilterView:
    kind = FilterKind(saved.kind)
    return FilterView(
        id=saved.id,
        name=saved.name,
        kind=kind,
        criteria=CRITERIA_OF[kind].model_validate(saved.criteria),
    )


def create_filter(session: Session, request: FilterRequest, *, user: User | None) -> Filter:
    saved = Filter(
        name=request.name,
        kind=request.kind,
        criteria=request.stored_criteria(),
        owner_id=user.id if user else None,
    )
    session.add(saved)
    session.flush()
    _audit(session, user, ACTION_CREATE, saved)
    return saved


def visible_filter(
    session: Session, filter_id: int, user: User | None, *, for_update: bool = False
) -> Filter:
    """The filter, if the user may reach it (a school admin: one of their own)."""
    saved = session.get(Filter, filter_id, with_for_update=for_update)
    if saved is None:
        raise NotFound(f"no filter {filter_id}")
    ensure_filter_allowed(reach_of(session, user), saved)
    return saved


def update_filter(
    session: Session, filter_id: int, request: FilterRequest, *, user: User | None
) -> Filter:
    """Replace the filter's name, kind and criteria; it keeps its owner."""
    saved = visible_filter(session, filter_id, user, for_update=True)
    saved.name = request.name
    saved.kind = request.kind
    saved.criteria = request.stored_criteria()
    _audit(session, user, ACTION_UPDATE, saved)
    return saved


def delete_filter(session: Session, filter_id: int, *, user: User | None) -> None:
    """Delete the filter, unless an enabled schedule uses it (a paused one's next run after
    resuming fails, saying so); the batches that used it keep their copy of its criteria."""
    saved = visible_filter(session, filter_id, user, for_update=True)
    schedule = session.scalars(
        select(Schedule)
        .where(Schedule.filter_id == saved.id, Schedule.enabled, Schedule.deleted_at.is_(None))
        .order_by(Schedule.id)
    ).first()
    if schedule is not None:
        raise Conflict(
            f"filter {saved.id} is used by the enabled schedule {schedule.name!r} "
            f"(id {schedule.id}); pause that schedule or give it another filter first"
        )
    _audit(session, user, ACTION_DELETE, saved)
    session.delete(saved)


def list_filters(
    session: Session, kind: FilterKind | None = None, *, user: User | None = None
) -> list[Filter]:
    """The filters the user may use (a school admin: their own), by name."""
    query = select(Filter).where(filter_reach(reach_of(session, user)))
    if kind is not None:
        query = query.where(Filter.kind == kind)
    return list(session.scalars(query.order_by(Filter.name, Filter.id)))


def _audit(session: Session, user: User | None, action: str, saved: Filter) -> None:
    record_audit(
        session,
        username=user.username if user else None,
        action=action,
        subject=f"filter:{saved.id}",
        detail={"name": saved.name, "kind": saved.kind},
    )
