"""A batch as `GET /api/v1/batches/<id>` shows it, and the page renders it.

The view also has `undoOf` (the batch an undo restores), `appliedAs` (the batch a preview
was applied as, once it is), `result.conflicts` for an undo (values left because they changed
after the batch), and `result.sample` for a preview (the first values it would change, and
whose they are).
"""

from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shared.batches.change_log import SampleRow, change_sample
from shared.batches.submit import preview_key
from shared.core.contract import Moment, View, omitted
from shared.core.grids import Changes, Counts, full_grid
from shared.core.vocabulary import BatchKind, BatchStatus, Mode
from shared.models import Batch, BatchChunk, User


class ScopeView(View):
    school_year: str | None
    school_id: str | None
    calendar_id: str | None


class PeopleDone(View):
    """Targets whose chunk is done, of all the targets (0 of 0 until it is planned)."""

    done: int
    total: int


class Progress(View):
    """Chunks done of the chunks planned (0 of 0 until it is planned), and the people done."""

    done: int
    total: int
    people: PeopleDone


class Reached(View):
    """Targets with an address on a channel the batch sets; households whose phone it sets."""

    people: int
    households: int


class Skipped(View):
    """Targets with no address on any channel the batch sets."""

    no_address: int


class BatchResult(View):
    targets: int
    errors: list[str]
    counts: Counts
    kept: Counts
    # For a batch, not an undo: whom it reached, and whom it skipped for having no address.
    reached: Reached | None = omitted()
    skipped: Skipped | None = omitted()
    # For an undo only: per channel and reason, the values left because they changed since.
    conflicts: Counts | None = omitted()
    # For a preview only: the first values it would change.
    sample: list[SampleRow] | None = omitted()


class BatchView(View):
    id: int
    kind: BatchKind
    status: BatchStatus
    mode: Mode | None
    scope: ScopeView | None  # None in census mode
    filter_id: int | None
    as_of: date
    changes: Changes
    keep_guardian_choices: bool
    dry_run: bool
    submitted_by: str | None
    submitted_at: Moment
    started_at: Moment | None
    finished_at: Moment | None
    progress: Progress
    result: BatchResult | None  # None until it has finished
    undone_by: int | None
    undo_of: int | None  # for an undo: the batch it undoes
    applied_as: int | None  # for a preview: the batch it was applied as, once it is


def batch_view(session: Session, batch: Batch) -> BatchView:
    return batch_views(session, [batch])[0]


def batch_views(session: Session, batches: list[Batch]) -> list[BatchView]:
    """The views of a page of batches, with what they need from other rows (chunks done,
    submitters, undos, applied previews) read once for the whole page."""
    ids = [batch.id for batch in batches]
    done = {
        batch_id: (chunks, int(people or 0))
        for batch_id, chunks, people in session.execute(
            select(BatchChunk.batch_id, func.count(), func.coalesce(func.sum(BatchChunk.people), 0))
            .where(BatchChunk.batch_id.in_(ids), BatchChunk.done.is_(True))
            .group_by(BatchChunk.batch_id)
        )
    }
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
            done=done.get(batch.id, (0, 0)),
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
    done: tuple[int, int],
    submitter: str | None,
    undone_by: int | None,
    applied_as: int | None,
) -> BatchView:
    return BatchView(
        id=batch.id,
        kind=batch.kind,
        status=batch.status,
        mode=batch.mode,
        scope=None
        if batch.mode == Mode.CENSUS
        else ScopeView(
            school_year=batch.school_year,
            school_id=batch.school_ext_id,
            calendar_id=batch.calendar_ext_id,
        ),
        filter_id=batch.filter_id,
        as_of=batch.as_of,
        changes=Changes.model_validate(full_grid(batch.changes)),
        keep_guardian_choices=batch.keep_guardian_choices,
        dry_run=batch.dry_run,
        submitted_by=submitter,
        submitted_at=batch.submitted_at,
        started_at=batch.started_at,
        finished_at=batch.finished_at,
        progress=Progress(
            done=done[0],
            total=batch.chunks_total or 0,
            people=PeopleDone(done=done[1], total=batch.targets or 0),
        ),
        result=_result(session, batch) if batch.status.final else None,
        undone_by=undone_by,
        undo_of=batch.undo_of,
        applied_as=applied_as,
    )


def _result(session: Session, batch: Batch) -> BatchResult:
    return BatchResult(
        targets=batch.targets or 0,
        errors=list(batch.errors),
        counts=Counts.model_validate(batch.counts),
        kept=Counts.model_validate(batch.kept),
        reached=None
        if batch.reached_people is None
        else Reached(people=batch.reached_people, households=batch.reached_households or 0),
        skipped=None
        if batch.skipped_no_address is None
        else Skipped(no_address=batch.skipped_no_address),
        conflicts=None if batch.undo_of is None else Counts.model_validate(batch.conflicts),
        sample=change_sample(session, batch.id) if batch.dry_run else None,
    )
