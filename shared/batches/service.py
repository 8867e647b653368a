"""Submitting and reading batches: the service layer the API and the wizard call."""

import hashlib
from datetime import date
from typing import Any, Final

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shared.access.accounts import record_audit
from shared.access.reach import (
    batch_reach,
    ensure_batch_allowed,
    ensure_batch_request_allowed,
    reach_of,
)
from shared.batches.order import take_submission_turn
from shared.batches.request import BatchRequest, Scope, parse_batch_request
from shared.core.errors import InvalidRequest, NotFound
from shared.models import Batch, Calendar, Filter, School, User
from shared.models.batches import FINAL_STATUSES

STATUSES = ("queued", "running", *FINAL_STATUSES)
ACTION_SUBMIT: Final = "batch.submit"
ACTION_PREVIEW: Final = "batch.preview"


def submit_batch(
    session: Session,
    payload: Any,
    *,
    user: User | None,
    today: date,
    idempotency_key: str | None = None,
) -> tuple[Batch, bool]:
    """Validate and store a batch. Returns (batch, created); created is False when the
    idempotency key names an earlier batch, which is returned instead (the submission turn
    makes a key sent twice at the same moment wait for the first). The caller commits, then
    enqueues the plan."""
    take_submission_turn(session)
    key = idempotency_digest(user, idempotency_key) if idempotency_key else None
    earlier = _by_idempotency_key(session, key)
    if earlier is not None:
        return earlier, False
    request = parse_batch_request(payload, today=today)
    saved_filter = _saved_filter(session, request)
    if request.scope is not None:
        _check_scope(session, request.scope)
    ensure_batch_request_allowed(
        session,
        reach_of(session, user),
        mode=request.mode,
        school_ext_id=request.scope.school_id if request.scope else None,
        calendar_ext_id=request.scope.calendar_id if request.scope else None,
        filter_id=request.filter_id,
        filter_owner_id=saved_filter.owner_id if saved_filter else None,
    )
    batch = Batch(
        kind="batch",
        status="queued",
        mode=request.mode,
        school_year=request.scope.school_year if request.scope else None,
        school_ext_id=request.scope.school_id if request.scope else None,
        calendar_ext_id=request.scope.calendar_id if request.scope else None,
        filter_id=request.filter_id,
        filter_criteria=dict(saved_filter.criteria) if saved_filter else None,
        as_of=request.as_of,
        changes=request.changes,
        keep_guardian_choices=request.keep_guardian_choices,
        dry_run=request.dry_run,
        submitted_by=user.id if user else None,
        errors=[],
        idempotency_key=key,
    )
    session.add(batch)
    session.flush()
    record_audit(
        session,
        username=user.username if user else None,
        action=ACTION_PREVIEW if request.dry_run else ACTION_SUBMIT,
        subject=f"batch:{batch.id}",
        detail={"mode": request.mode, "dryRun": request.dry_run},
    )
    return batch, True


def idempotency_digest(user: User | None, key: str) -> str:
    """What is stored for an idempotency key: a digest of who sent it and the key, so one
    user's key never returns another user's batch, and any key fits the column."""
    owner = str(user.id) if user is not None else "-"
    return hashlib.sha256(f"{owner}\n{key}".encode()).hexdigest()


def _by_idempotency_key(session: Session, key: str | None) -> Batch | None:
    if not key:
        return None
    return session.scalar(select(Batch).where(Batch.idempotency_key == key))


def get_batch(session: Session, batch_id: int) -> Batch:
    batch = session.get(Batch, batch_id)
    if batch is None:
        raise NotFound(f"no batch {batch_id}")
    return batch


def visible_batch(session: Session, batch_id: int, user: User | None) -> Batch:
    """The batch, if the user may see it (a school admin: one within their schools)."""
    batch = get_batch(session, batch_id)
    ensure_batch_allowed(session, reach_of(session, user), batch)
    return batch


def list_batches(
    session: Session, *, page: int, per_page: int, status: str | None, user: User | None = None
) -> tuple[list[Batch], int]:
    """A page of the batches the user may see, newest first, and how many there are."""
    if status is not None and status not in STATUSES:
        raise InvalidRequest(f"must be one of {', '.join(STATUSES)}", field="status")
    if page < 1:
        raise InvalidRequest("must be 1 or more", field="page")
    query = select(Batch).where(batch_reach(reach_of(session, user)))
    if status is not None:
        query = query.where(Batch.status == status)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    items = session.scalars(
        query.order_by(Batch.id.desc()).offset((page - 1) * per_page).limit(per_page)
    ).all()
    return list(items), total


def _saved_filter(session: Session, request: BatchRequest) -> Filter | None:
    if request.filter_id is None:
        return None
    saved = session.get(Filter, request.filter_id)
    if saved is None:
        raise InvalidRequest(f"no filter with id {request.filter_id}", field="filterId")
    wanted = "census" if request.mode == "census" else "student"
    if saved.kind != wanted:
        raise InvalidRequest(
            f"filter {saved.id} is a {saved.kind} filter; {request.mode} mode needs a {wanted} one",
            field="filterId",
        )
    return saved


def _check_scope(session: Session, scope: Scope) -> None:
    """Every named scope item exists, and together they name at least one calendar."""
    school = None
    if scope.school_id is not None:
        school = session.scalar(select(School).where(School.ext_id == scope.school_id))
        if school is None:
            raise InvalidRequest(f"no school {scope.school_id!r}", field="scope.schoolId")
    if scope.calendar_id is not None:
        calendar = session.scalar(select(Calendar).where(Calendar.ext_id == scope.calendar_id))
        if calendar is None:
            raise InvalidRequest(f"no calendar {scope.calendar_id!r}", field="scope.calendarId")
        if school is not None and calendar.school_id != school.id:
            raise InvalidRequest(
                f"calendar {scope.calendar_id!r} is not a calendar of school {scope.school_id!r}",
                field="scope.calendarId",
            )
        if scope.school_year is not None and calendar.school_year != scope.school_year:
            raise InvalidRequest(
                f"calendar {scope.calendar_id!r} is of school year {calendar.school_year}",
                field="scope.calendarId",
            )
        return
    query = (
        select(func.count()).select_from(Calendar).where(Calendar.school_year == scope.school_year)
    )
    if school is not None:
        query = query.where(Calendar.school_id == school.id)
    if not session.scalar(query):
        where = f" at school {scope.school_id!r}" if school is not None else ""
        raise InvalidRequest(
            f"no calendar of school year {scope.school_year!r}{where}", field="scope.schoolYear"
        )
