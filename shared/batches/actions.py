"""What can be done to a batch once submitted: undo it, cancel it, apply the preview it was.

Each runs in the caller's transaction and records its audit entry there; the caller commits,
then sends what is returned (the undo's or the applied batch's plan, the messages a cancel
frees), as for a submission.
"""

from datetime import datetime
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.access.accounts import record_audit
from shared.access.reach import ensure_batch_allowed, reach_of
from shared.batches.order import take_submission_turn
from shared.batches.pipeline import steps as pipeline
from shared.batches.service import ACTION_SUBMIT, idempotency_digest
from shared.core.errors import Conflict, NotFound
from shared.models import Batch, User
from shared.models.batches import ACTIVE_STATUSES

ACTION_UNDO: Final = "batch.undo"
ACTION_CANCEL: Final = "batch.cancel"


def undo_batch(session: Session, batch_id: int, *, user: User | None) -> Batch:
    """Queue the undo of a finished batch (SPEC 4.5). Refused (409) for a batch still queued or
    running, a dry run, an undo, or a batch undone already."""
    take_submission_turn(session)
    original = _locked(session, batch_id, user)
    if original.status in ACTIVE_STATUSES:
        raise Conflict(f"batch {batch_id} is {original.status}; undo it once it has finished")
    if original.dry_run:
        raise Conflict(f"batch {batch_id} is a preview; it changed nothing to undo")
    if original.undo_of is not None:
        raise Conflict(
            f"batch {batch_id} is an undo, which cannot be undone; "
            f"submit batch {original.undo_of} again instead"
        )
    earlier = session.scalar(select(Batch.id).where(Batch.undo_of == batch_id))
    if earlier is not None:
        raise Conflict(f"batch {batch_id} was undone already, by batch {earlier}")
    undo = _copy(original, kind="undo", user=user)
    undo.undo_of = original.id
    session.add(undo)
    session.flush()
    record_audit(
        session,
        username=user.username if user else None,
        action=ACTION_UNDO,
        subject=f"batch:{undo.id}",
        detail={"undoOf": original.id},
    )
    return undo


def cancel_batch(
    session: Session, batch_id: int, *, user: User | None, now: datetime
) -> tuple[Batch, list[pipeline.Message]]:
    """Stop a queued or running batch between chunks. An undo is not cancelled: stopping it
    half way would leave values restored here and not there, with no undo left to finish it."""
    batch = _locked(session, batch_id, user)
    if batch.status not in ACTIVE_STATUSES:
        raise Conflict(f"batch {batch_id} has finished ({batch.status}); there is nothing to stop")
    if batch.undo_of is not None:
        raise Conflict(f"batch {batch_id} is an undo; an undo runs to its end")
    messages = pipeline.cancel(session, batch, now)
    record_audit(
        session,
        username=user.username if user else None,
        action=ACTION_CANCEL,
        subject=f"batch:{batch.id}",
        detail={"mode": batch.mode, "dryRun": batch.dry_run},
    )
    return batch, messages


def apply_preview(session: Session, preview_id: int, *, user: User | None) -> tuple[Batch, bool]:
    """Submit the request a finished preview ran, for real: same scope, filter criteria, as-of
    date, changes and switches. A preview is applied once; applying it again returns that batch
    (created False), so a double click submits one batch."""
    take_submission_turn(session)
    preview = _locked(session, preview_id, user)
    if not preview.dry_run:
        raise Conflict(f"batch {preview_id} is not a preview")
    if preview.status != "succeeded":
        raise Conflict(f"preview {preview_id} is {preview.status}; apply a preview that succeeded")
    key = preview_key(preview_id)
    earlier = session.scalar(select(Batch).where(Batch.idempotency_key == key))
    if earlier is not None:
        return earlier, False
    batch = _copy(preview, kind="batch", user=user)
    batch.idempotency_key = key
    session.add(batch)
    session.flush()
    record_audit(
        session,
        username=user.username if user else None,
        action=ACTION_SUBMIT,
        subject=f"batch:{batch.id}",
        detail={"mode": batch.mode, "dryRun": False, "preview": preview_id},
    )
    return batch, True


def preview_key(preview_id: int) -> str:
    """The idempotency key of the batch a preview is applied as: it finds that batch."""
    return idempotency_digest(None, f"apply-preview:{preview_id}")


def _locked(session: Session, batch_id: int, user: User | None) -> Batch:
    """The batch, locked for update, if the user may act on it."""
    batch = session.get(Batch, batch_id, with_for_update=True, populate_existing=True)
    if batch is None:
        raise NotFound(f"no batch {batch_id}")
    ensure_batch_allowed(session, reach_of(session, user), batch)
    return batch


def _copy(source: Batch, *, kind: str, user: User | None) -> Batch:
    return Batch(
        kind=kind,
        status="queued",
        mode=source.mode,
        school_year=source.school_year,
        school_ext_id=source.school_ext_id,
        calendar_ext_id=source.calendar_ext_id,
        filter_id=source.filter_id,
        filter_criteria=source.filter_criteria,
        as_of=source.as_of,
        changes=source.changes,
        keep_guardian_choices=source.keep_guardian_choices if kind == "batch" else False,
        dry_run=False,
        submitted_by=user.id if user else None,
        errors=[],
    )
