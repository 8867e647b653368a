"""Submitting and reading batches: the service layer the API and the wizard call."""

from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shared.accounts import record_audit
from shared.batch_request import BatchRequest, Scope, parse_batch_request
from shared.errors import InvalidRequest, NotFound
from shared.models import Batch, BatchChunk, Calendar, Filter, School, User
from shared.models.batches import FINAL_STATUSES

STATUSES = ("queued", "running", *FINAL_STATUSES)


def submit_batch(
    session: Session,
    payload: Any,
    *,
    user: User | None,
    today: date,
    idempotency_key: str | None = None,
) -> tuple[Batch, bool]:
    """Validate and store a batch. Returns (batch, created); created is False when the
    idempotency key names an earlier batch, which is returned instead. The caller commits,
    then enqueues the plan."""
    earlier = _by_idempotency_key(session, idempotency_key)
    if earlier is not None:
        return earlier, False
    request = parse_batch_request(payload, today=today)
    criteria = _filter_criteria(session, request)
    if request.scope is not None:
        _check_scope(session, request.scope)
    batch = Batch(
        kind="batch",
        status="queued",
        mode=request.mode,
        school_year=request.scope.school_year if request.scope else None,
        school_ext_id=request.scope.school_id if request.scope else None,
        calendar_ext_id=request.scope.calendar_id if request.scope else None,
        filter_id=request.filter_id,
        filter_criteria=criteria,
        as_of=request.as_of,
        changes=request.changes,
        keep_guardian_choices=request.keep_guardian_choices,
        dry_run=request.dry_run,
        submitted_by=user.id if user else None,
        errors=[],
        idempotency_key=idempotency_key or None,
    )
    try:
        with session.begin_nested():
            session.add(batch)
    except IntegrityError:
        # The same key, submitted at the same moment by another request that committed first.
        earlier = _by_idempotency_key(session, idempotency_key)
        if earlier is None:
            raise
        return earlier, False
    record_audit(
        session,
        username=user.username if user else None,
        action="batch.submit",
        subject=f"batch:{batch.id}",
        detail={"mode": request.mode, "dryRun": request.dry_run},
    )
    return batch, True


def _by_idempotency_key(session: Session, key: str | None) -> Batch | None:
    if not key:
        return None
    return session.scalar(select(Batch).where(Batch.idempotency_key == key))


def get_batch(session: Session, batch_id: int) -> Batch:
    batch = session.get(Batch, batch_id)
    if batch is None:
        raise NotFound(f"no batch {batch_id}")
    return batch


def list_batches(
    session: Session, *, page: int, per_page: int, status: str | None
) -> tuple[list[Batch], int]:
    if status is not None and status not in STATUSES:
        raise InvalidRequest(f"must be one of {', '.join(STATUSES)}", field="status")
    if page < 1:
        raise InvalidRequest("must be 1 or more", field="page")
    query = select(Batch)
    if status is not None:
        query = query.where(Batch.status == status)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    items = session.scalars(
        query.order_by(Batch.id.desc()).offset((page - 1) * per_page).limit(per_page)
    ).all()
    return list(items), total


def batch_view(session: Session, batch: Batch) -> dict[str, Any]:
    done = session.scalar(
        select(func.count())
        .select_from(BatchChunk)
        .where(BatchChunk.batch_id == batch.id, BatchChunk.done.is_(True))
    )
    submitter = session.get(User, batch.submitted_by) if batch.submitted_by else None
    undone_by = session.scalar(select(Batch.id).where(Batch.undo_of == batch.id))
    finished = batch.status in FINAL_STATUSES
    return {
        "id": batch.id,
        "kind": batch.kind,
        "status": batch.status,
        "mode": batch.mode,
        "scope": None
        if batch.mode == "census"
        else {
            "schoolYear": batch.school_year,
            "schoolId": batch.school_ext_id,
            "calendarId": batch.calendar_ext_id,
        },
        "filterId": batch.filter_id,
        "asOf": batch.as_of.isoformat(),
        "changes": batch.changes,
        "keepGuardianChoices": batch.keep_guardian_choices,
        "dryRun": batch.dry_run,
        "submittedBy": submitter.username if submitter else None,
        "submittedAt": _iso(batch.submitted_at),
        "startedAt": _iso(batch.started_at),
        "finishedAt": _iso(batch.finished_at),
        "progress": {"done": done or 0, "total": batch.chunks_total or 0},
        "result": {
            "targets": batch.targets or 0,
            "errors": list(batch.errors),
            "counts": batch.counts,
            "kept": batch.kept,
        }
        if finished
        else None,
        "undoneBy": undone_by,
    }


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _filter_criteria(session: Session, request: BatchRequest) -> dict[str, Any] | None:
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
    return dict(saved.criteria)


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
