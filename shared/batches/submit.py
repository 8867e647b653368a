"""Submitting a batch: check the request against the database and the user's reach, store it
queued, and hand back the plan message to send once the caller has committed."""

import hashlib
from dataclasses import dataclass
from datetime import date
from typing import Final

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shared.access.audit import record_audit
from shared.access.reach import ensure_batch_request_allowed, reach_of
from shared.batches.order import take_submission_turn
from shared.batches.pipeline import messages
from shared.batches.pipeline.messages import Message
from shared.batches.request import BatchRequest, BatchTemplate, Scope
from shared.core.errors import InvalidRequest
from shared.core.vocabulary import BatchKind, BatchStatus, Mode
from shared.models import Batch, Calendar, Filter, School, User

ACTION_SUBMIT: Final = "batch.submit"
ACTION_PREVIEW: Final = "batch.preview"


@dataclass(frozen=True)
class Submitted:
    """What a command on batches did: the batch it stored (or found: `created` False, for a
    resubmission), and the messages to send once the transaction has committed."""

    batch: Batch
    created: bool
    messages: tuple[Message, ...]

    @classmethod
    def new(cls, batch: Batch) -> "Submitted":
        return cls(batch, True, (messages.plan(batch.id),))

    @classmethod
    def earlier(cls, batch: Batch) -> "Submitted":
        return cls(batch, False, ())


def submit_batch(
    session: Session,
    request: BatchRequest,
    *,
    user: User | None,
    today: date,
    idempotency_key: str | None = None,
) -> Submitted:
    """Validate and store a batch. A key sent before returns the earlier batch instead (the
    submission turn makes a key sent twice at the same moment wait for the first)."""
    take_submission_turn(session)
    key = idempotency_digest(user, idempotency_key) if idempotency_key else None
    earlier = by_idempotency_key(session, key)
    if earlier is not None:
        return Submitted.earlier(earlier)
    saved_filter = check_template(session, request, user)
    scope = request.target_scope
    batch = Batch(
        kind=BatchKind.BATCH,
        status=BatchStatus.QUEUED,
        mode=request.mode,
        school_year=scope.school_year if scope else None,
        school_ext_id=scope.school_id if scope else None,
        calendar_ext_id=scope.calendar_id if scope else None,
        filter_id=request.filter_id,
        filter_criteria=dict(saved_filter.criteria) if saved_filter else None,
        as_of=request.as_of or today,
        changes=request.grid,
        keep_guardian_choices=request.keeps_guardian_choices,
        dry_run=request.is_dry_run,
        submitted_by=user.id if user else None,
        errors=[],
        idempotency_key=key,
    )
    session.add(batch)
    session.flush()
    record_audit(
        session,
        username=user.username if user else None,
        action=ACTION_PREVIEW if request.is_dry_run else ACTION_SUBMIT,
        subject=f"batch:{batch.id}",
        detail={"mode": request.mode, "dryRun": request.is_dry_run},
    )
    return Submitted.new(batch)


def check_template(session: Session, template: BatchTemplate, user: User | None) -> Filter | None:
    """What a batch request, or a schedule's template, needs of the database: its scope and
    filter exist, and the user may use them. Returns the filter."""
    saved_filter = _saved_filter(session, template)
    scope = template.target_scope
    if scope is not None:
        _check_scope(session, scope)
    ensure_batch_request_allowed(
        session,
        reach_of(session, user),
        mode=template.mode,
        school_ext_id=scope.school_id if scope else None,
        calendar_ext_id=scope.calendar_id if scope else None,
        filter_id=template.filter_id,
        filter_owner_id=saved_filter.owner_id if saved_filter else None,
    )
    return saved_filter


def idempotency_digest(user: User | None, key: str) -> str:
    """What is stored for an idempotency key: a digest of who sent it and the key, so one
    user's key never returns another user's batch, and any key fits the column."""
    owner = str(user.id) if user is not None else "-"
    return hashlib.sha256(f"{owner}\n{key}".encode()).hexdigest()


def preview_key(preview_id: int) -> str:
    """The idempotency key of the batch a preview is applied as: it finds that batch."""
    return idempotency_digest(None, f"apply-preview:{preview_id}")


def by_idempotency_key(session: Session, key: str | None) -> Batch | None:
    if not key:
        return None
    return session.scalar(select(Batch).where(Batch.idempotency_key == key))


def _saved_filter(session: Session, request: BatchTemplate) -> Filter | None:
    if request.filter_id is None:
        return None
    saved = session.get(Filter, request.filter_id)
    if saved is None:
        raise InvalidRequest(f"no filter with id {request.filter_id}", field="filterId")
    wanted = "census" if request.mode == Mode.CENSUS else "student"
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
