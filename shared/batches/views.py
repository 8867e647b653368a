"""A batch as `GET /api/v1/batches/<id>` shows it (SPEC section 5), and the page renders it.

Besides SPEC's fields: `undoOf` (the batch an undo restores), `appliedAs` (the batch a preview
was applied as, once it is), `result.conflicts` for an undo (values left because they changed
after the batch), and `result.sample` for a preview (the first values it would change, and
whose they are).
"""

from datetime import datetime
from typing import Any, Final

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shared.batches.actions import preview_key
from shared.core.vocabulary import CHANNELS, HOUSEHOLD_PHONE, REASONS
from shared.models import Batch, BatchChunk, Household, Person, User, change_log
from shared.models.batches import FINAL_STATUSES

SAMPLE_SIZE: Final = 10


def batch_view(session: Session, batch: Batch) -> dict[str, Any]:
    return batch_views(session, [batch])[0]


def batch_views(session: Session, batches: list[Batch]) -> list[dict[str, Any]]:
    """The views of a page of batches, with what they need from other rows (chunks done,
    submitters, undos, applied previews) read once for the whole page."""
    ids = [batch.id for batch in batches]
    done = dict(
        session.execute(
            select(BatchChunk.batch_id, func.count())
            .where(BatchChunk.batch_id.in_(ids), BatchChunk.done.is_(True))
            .group_by(BatchChunk.batch_id)
        ).all()
    )
    submitter_ids = {batch.submitted_by for batch in batches if batch.submitted_by}
    submitters = {}
    if submitter_ids:  # a poll makes no query it does not need
        submitters = dict(
            session.execute(select(User.id, User.username).where(User.id.in_(submitter_ids))).all()
        )
    undone_by = {}
    if any(not batch.dry_run for batch in batches):  # a preview cannot be undone
        undone_by = dict(
            session.execute(select(Batch.undo_of, Batch.id).where(Batch.undo_of.in_(ids))).all()
        )
    keys = {preview_key(batch.id): batch.id for batch in batches if batch.dry_run}
    applied = {}
    if keys:
        applied = {
            keys[key]: batch_id
            for key, batch_id in session.execute(
                select(Batch.idempotency_key, Batch.id).where(Batch.idempotency_key.in_(keys))
            )
            if key is not None
        }
    return [
        _view(
            session,
            batch,
            done=done.get(batch.id, 0),
            submitter=submitters.get(batch.submitted_by) if batch.submitted_by else None,
            undone_by=undone_by.get(batch.id),
            applied_as=applied.get(batch.id),
        )
        for batch in batches
    ]


def _view(
    session: Session,
    batch: Batch,
    *,
    done: int,
    submitter: str | None,
    undone_by: int | None,
    applied_as: int | None,
) -> dict[str, Any]:
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
        "submittedBy": submitter,
        "submittedAt": _iso(batch.submitted_at),
        "startedAt": _iso(batch.started_at),
        "finishedAt": _iso(batch.finished_at),
        "progress": {"done": done, "total": batch.chunks_total or 0},
        "result": _result(session, batch) if batch.status in FINAL_STATUSES else None,
        "undoneBy": undone_by,
        "undoOf": batch.undo_of,
        "appliedAs": applied_as,
    }


def _result(session: Session, batch: Batch) -> dict[str, Any]:
    result: dict[str, Any] = {
        "targets": batch.targets or 0,
        "errors": list(batch.errors),
        "counts": batch.counts,
        "kept": batch.kept,
    }
    if batch.undo_of is not None:
        result["conflicts"] = batch.conflicts
    if batch.dry_run:
        result["sample"] = change_sample(session, batch.id)
    return result


def change_sample(session: Session, batch_id: int, size: int = SAMPLE_SIZE) -> list[dict[str, Any]]:
    """The first `size` values the batch changes (or would), in the change log's key order (so
    even a million-row log answers from its index): who, which channel, and each changed
    reason's new value."""
    log = change_log.c
    first = (
        select(log.channel, log.subject_id, log.changed_mask, log.after_mask)
        .where(log.batch_id == batch_id, log.changed_mask != 0)
        .order_by(log.channel, log.subject_id)
        .limit(size)
        .subquery()
    )
    household = first.c.channel == HOUSEHOLD_PHONE
    rows = session.execute(
        select(
            first,
            Person.ext_id.label("person_id"),
            Person.first_name,
            Person.last_name,
            Household.ext_id.label("household_id"),
            Household.name.label("household_name"),
        )
        .outerjoin(Person, (Person.id == first.c.subject_id) & ~household)
        .outerjoin(Household, (Household.id == first.c.subject_id) & household)
        .order_by(first.c.channel, first.c.subject_id)
    )
    return [
        {
            "subjectType": "household" if row.channel == HOUSEHOLD_PHONE else "person",
            "subjectId": row.household_id if row.channel == HOUSEHOLD_PHONE else row.person_id,
            "name": row.household_name
            if row.channel == HOUSEHOLD_PHONE
            else f"{row.first_name} {row.last_name}",
            "channel": CHANNELS[row.channel],
            "changes": {
                reason: "on" if row.after_mask >> k & 1 else "off"
                for k, reason in enumerate(REASONS)
                if row.changed_mask >> k & 1
            },
        }
        for row in rows
    ]


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None
