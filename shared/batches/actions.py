"""What can be done to a batch once submitted: undo it, cancel it, apply the preview it was.

Each runs in the caller's transaction, records its audit entry there, and returns what the
caller sends once it has committed (the undo's or the applied batch's plan, the messages a
cancel frees), as a submission does. The rules each one checks are in `rules`.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.access.audit import record_audit
from shared.access.reach import ensure_batch_allowed, reach_of
from shared.batches.order import take_submission_turn
from shared.batches.pipeline import steps
from shared.batches.rules import why_not_apply, why_not_cancel, why_not_undo
from shared.batches.submit import (
    ACTION_SUBMIT,
    Submitted,
    by_idempotency_key,
    preview_key,
)
from shared.core.errors import Conflict, NotFound
from shared.core.vocabulary import BatchKind, BatchStatus
from shared.models import Batch, User

ACTION_UNDO: Final = "batch.undo"
ACTION_CANCEL: Final = "batch.cancel"


@dataclass(frozen=True)
class Stored:
    """A stored batch with what other rows say of it, as the rules read it."""

    id: int
    status: BatchStatus
    dry_run: bool
    undo_of: int | None
    undone_by: int | None


def undo_batch(session: Session, batch_id: int, *, user: User | None) -> Submitted:
    """Queue the undo of a finished batch (docs/batches.md, "Undo")."""
    take_submission_turn(session)
    original = _locked(session, batch_id, user)
    undone_by = session.scalar(select(Batch.id).where(Batch.undo_of == batch_id))
    _refuse(why_not_undo(_stored(original, undone_by)))
    undo = _copy(original, kind=BatchKind.UNDO, user=user)
    undo.undo_of = original.id
    session.add(undo)
    session.flush()
    _audit(session, user, ACTION_UNDO, undo, {"undoOf": original.id})
    return Submitted.new(undo)


def cancel_batch(session: Session, batch_id: int, *, user: User | None, now: datetime) -> Submitted:
    """Stop a queued or running batch between chunks: what it applied stays applied, counted and
    undoable. Returns the messages the pipeline can move on with."""
    batch = _locked(session, batch_id, user)
    _refuse(why_not_cancel(_stored(batch, None)))
    freed = steps.cancel(session, batch, now)
    _audit(session, user, ACTION_CANCEL, batch, {"mode": batch.mode, "dryRun": batch.dry_run})
    return Submitted(batch, False, tuple(freed))


def apply_preview(session: Session, preview_id: int, *, user: User | None) -> Submitted:
    """Submit the request a finished preview ran, for real: same scope, filter criteria, as-of
    date, changes and switches. A preview is applied once; applying it again returns that batch
    (created False), so a double click submits one batch."""
    take_submission_turn(session)
    preview = _locked(session, preview_id, user)
    _refuse(why_not_apply(_stored(preview, None)))
    key = preview_key(preview_id)
    earlier = by_idempotency_key(session, key)
    if earlier is not None:
        return Submitted.earlier(earlier)
    batch = _copy(preview, kind=BatchKind.BATCH, user=user)
    batch.idempotency_key = key
    session.add(batch)
    session.flush()
    _audit(
        session,
        user,
        ACTION_SUBMIT,
        batch,
        {"mode": batch.mode, "dryRun": False, "preview": preview_id},
    )
    return Submitted.new(batch)


def _locked(session: Session, batch_id: int, user: User | None) -> Batch:
    """The batch, locked for update, if the user may act on it."""
    batch = session.get(Batch, batch_id, with_for_update=True, populate_existing=True)
    if batch is None:
        raise NotFound(f"no batch {batch_id}")
    ensure_batch_allowed(session, reach_of(session, user), batch)
    return batch


def _stored(batch: Batch, undone_by: int | None) -> Stored:
    return Stored(batch.id, batch.status, batch.dry_run, batch.undo_of, undone_by)


def _refuse(reason: str | None) -> None:
    if reason is not None:
        raise Conflict(reason)


def _audit(
    session: Session, user: User | None, action: str, batch: Batch, detail: dict[str, object]
) -> None:
    record_audit(
        session,
        username=user.username if user else None,
        action=action,
        subject=f"batch:{batch.id}",
        detail=detail,
    )


def _copy(source: Batch, *, kind: BatchKind, user: User | None) -> Batch:
    return Batch(
        kind=kind,
        status=BatchStatus.QUEUED,
        mode=source.mode,
        school_year=source.school_year,
        school_ext_id=source.school_ext_id,
        calendar_ext_id=source.calendar_ext_id,
        filter_id=source.filter_id,
        filter_criteria=source.filter_criteria,
        as_of=source.as_of,
        changes=source.changes,
        keep_guardian_choices=source.keep_guardian_choices if kind == BatchKind.BATCH else False,
        dry_run=False,
        submitted_by=user.id if user else None,
        errors=[],
    )
