"""A schedule's runs: claiming a due time once, and creating its batch in the same transaction.

A run is claimed by inserting its row under the unique `(schedule_id, due_at)`: a second claim of
the same due time (another beat, a duplicated tick) fails on that key and makes nothing. The
batch is submitted with the rights of the schedule's owner, as of the due time's local date; if
it cannot be (the owner may no longer run it, its filter or school is gone, the template no
longer validates), the run is recorded as failed with the reason, and audited.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Final
from zoneinfo import ZoneInfo

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shared.access.audit import record_audit
from shared.batches.pipeline.messages import Message
from shared.batches.request import BatchRequest
from shared.batches.submit import Submitted, submit_batch
from shared.core.contract import parse
from shared.core.errors import Conflict, CpbError, Forbidden, InvalidRequest
from shared.core.vocabulary import Role, RunStatus
from shared.models import Schedule, ScheduleRun, User

ACTION_RUN: Final = "schedule.run"
ACTION_RUN_FAILED: Final = "schedule.run.failed"


@dataclass(frozen=True)
class Claimed:
    """A run this transaction recorded, and the messages to send once it has committed."""

    run: ScheduleRun
    messages: tuple[Message, ...]


def claim_run(
    session: Session,
    schedule: Schedule,
    due_at: datetime,
    zone: ZoneInfo,
    *,
    requested_by: User | None = None,
) -> Claimed | None:
    """Claim the due time and create its batch; None if it was claimed already."""
    run = ScheduleRun(schedule_id=schedule.id, due_at=due_at, status=RunStatus.RAN)
    run.requested_by = requested_by.id if requested_by else None
    if not _inserted(session, run):
        return None
    try:
        with session.begin_nested():
            submitted = _submit(session, schedule, due_at, zone)
    except CpbError as error:
        run.status = RunStatus.FAILED
        run.reason = _reason(error)
        _audit(session, requested_by, ACTION_RUN_FAILED, schedule, run)
        return Claimed(run, ())
    run.batch_id = submitted.batch.id
    _audit(session, requested_by, ACTION_RUN, schedule, run)
    return Claimed(run, submitted.messages)


def record_skipped(session: Session, schedule: Schedule, due_at: datetime, reason: str) -> bool:
    """Record a missed due time; False if some run of it is recorded already."""
    run = ScheduleRun(
        schedule_id=schedule.id, due_at=due_at, status=RunStatus.SKIPPED, reason=reason
    )
    return _inserted(session, run)


def preview_run(
    session: Session, schedule: Schedule, now: datetime, zone: ZoneInfo, *, user: User | None
) -> Submitted:
    """A dry run of the template as of today: what the schedule would change if it ran now. It
    is no run of the schedule, and the user's own preview."""
    request = _request(schedule, now, zone, dry_run=True)
    return submit_batch(session, request, user=user, today=request.as_of or now.date())


def _inserted(session: Session, run: ScheduleRun) -> bool:
    try:
        with session.begin_nested():
            session.add(run)
            session.flush()
    except IntegrityError:
        return False
    return True


def _submit(session: Session, schedule: Schedule, due_at: datetime, zone: ZoneInfo) -> Submitted:
    owner = session.get(User, schedule.owner_id) if schedule.owner_id is not None else None
    if schedule.owner_id is not None and owner is None:
        raise Forbidden("its owner no longer exists; save its template again to own it")
    if owner is not None and owner.role == Role.VIEWER:
        raise Forbidden(
            f"its owner {owner.username!r} is a viewer now, and a viewer may not run batches; "
            "an admin must save its template again to own it"
        )
    request = _request(schedule, due_at, zone, dry_run=False)
    try:
        return submit_batch(session, request, user=owner, today=request.as_of or due_at.date())
    except Forbidden as error:
        who = f"its owner {owner.username!r}" if owner else "it"
        raise Forbidden(f"{who} may no longer run it: {error}") from None


def _request(
    schedule: Schedule, due_at: datetime, zone: ZoneInfo, *, dry_run: bool
) -> BatchRequest:
    """The template as a batch request, as of the due time's local date."""
    as_of = due_at.astimezone(zone).date().isoformat()
    try:
        return parse(BatchRequest, {**schedule.template, "asOf": as_of, "dryRun": dry_run})
    except InvalidRequest as error:
        raise InvalidRequest(
            f"its template no longer validates: {error}", field=f"template.{error.field}"
        ) from None


def _reason(error: CpbError) -> str:
    if isinstance(error, InvalidRequest) and error.field:
        return f"{error.message} (at {error.field})"
    return str(error)


def _audit(
    session: Session, user: User | None, action: str, schedule: Schedule, run: ScheduleRun
) -> None:
    detail: dict[str, object] = {"dueAt": run.due_at.isoformat(), "status": str(run.status)}
    if run.batch_id is not None:
        detail["batchId"] = run.batch_id
    if run.reason:
        detail["reason"] = run.reason
    record_audit(
        session,
        username=user.username if user else None,
        action=action,
        subject=f"schedule:{schedule.id}",
        detail=detail,
    )


def run_now(
    session: Session, schedule: Schedule, now: datetime, zone: ZoneInfo, *, user: User | None
) -> Claimed:
    """Run the schedule now, as a run whose due time is this moment (audited with who asked)."""
    claimed = claim_run(session, schedule, now, zone, requested_by=user)
    if claimed is None:
        raise Conflict(
            f"a run of schedule {schedule.id} due at {now.isoformat()} is recorded already"
        )
    return claimed
