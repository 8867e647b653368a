"""Planning a batch: materialise its targets and households as numbered chunks.

Targets are numbered in person-id order and cut into chunks of `chunk_size`. A household with a
phone goes to the chunk of its lowest-numbered targeted member, so it is updated exactly once.
An undo takes the chunks its original batch finished, with their numbers: each undo chunk
restores what that chunk changed.
"""

from sqlalchemy import case, func, insert, literal, select, text
from sqlalchemy.orm import Session

from shared.batches.pipeline.targets import target_ids
from shared.batches.request import Scope
from shared.core.db import is_sqlite, rowcount
from shared.core.vocabulary import ACTIVE_STATUSES, CHANNELS, HOUSEHOLD_PHONE, BatchKind
from shared.filters.matching import active, has_active_assignment
from shared.models import (
    Batch,
    BatchChunk,
    Household,
    HouseholdMember,
    batch_households,
    batch_targets,
)

PLAN_WORK_MEM = "64MB"


def plan_batch(session: Session, batch_id: int, chunk_size: int) -> bool:
    """Plan the batch once; False if it needs no planning (already planned, or gone)."""
    batch = session.get(Batch, batch_id, with_for_update=True)
    if batch is None or batch.planned or batch.status not in ACTIVE_STATUSES:
        return False
    if not is_sqlite(session):
        # Sorting and grouping a million targets spills to disk at the default 4 MB.
        session.execute(text(f"SET LOCAL work_mem = '{PLAN_WORK_MEM}'"))
    if batch.kind == BatchKind.IMPORT:  # the import is one chunk (pipeline.import_chunk)
        batch.targets, batch.chunks_total = 0, 1
        session.add(BatchChunk(batch_id=batch.id, chunk_no=0, done=False))
    elif batch.undo_of is not None:
        _plan_undo(session, batch, batch.undo_of)
    else:
        _plan_targets(session, batch, chunk_size)
    batch.planned = True
    return True


def _plan_targets(session: Session, batch: Batch, chunk_size: int) -> None:
    batch_id = batch.id
    scope = Scope(batch.school_year, batch.school_ext_id, batch.calendar_ext_id)
    targets = target_ids(
        batch.mode or "",
        None if batch.mode == "census" else scope,
        batch.as_of,
        batch.filter_criteria,
    ).subquery()
    number = func.row_number().over(order_by=targets.c.person_id) - 1
    targets_planned = rowcount(
        session,
        insert(batch_targets).from_select(
            ["batch_id", "person_id", "chunk_no", "is_staff"],
            select(
                literal(batch_id),
                targets.c.person_id,
                number // chunk_size,
                has_active_assignment(targets.c.person_id, batch.as_of),
            ),
        ),
    )
    if _sets_household_phone(batch):
        _plan_households(session, batch)
    # Targets are numbered from 0 without gaps, so the chunks are 0 .. ceil(targets / size) - 1.
    batch.targets = targets_planned
    batch.chunks_total = -(-batch.targets // chunk_size)
    if batch.chunks_total:
        session.execute(
            insert(BatchChunk),
            [
                {"batch_id": batch_id, "chunk_no": n, "done": False}
                for n in range(batch.chunks_total)
            ],
        )


def _plan_undo(session: Session, batch: Batch, original_id: int) -> None:
    """The original's finished chunks; the targets are the persons those chunks reached."""
    done = (
        select(BatchChunk.chunk_no)
        .where(BatchChunk.batch_id == original_id, BatchChunk.done.is_(True))
        .scalar_subquery()
    )
    session.execute(
        insert(BatchChunk).from_select(
            ["batch_id", "chunk_no", "done"],
            select(literal(batch.id), BatchChunk.chunk_no, literal(False)).where(
                BatchChunk.batch_id == original_id, BatchChunk.done.is_(True)
            ),
        )
    )
    batch.chunks_total = session.scalar(
        select(func.count()).select_from(BatchChunk).where(BatchChunk.batch_id == batch.id)
    )
    batch.targets = session.scalar(
        select(func.count())
        .select_from(batch_targets)
        .where(batch_targets.c.batch_id == original_id, batch_targets.c.chunk_no.in_(done))
    )


def _sets_household_phone(batch: Batch) -> bool:
    options = batch.changes.get(CHANNELS[HOUSEHOLD_PHONE], {})
    return any(option != "noChange" for option in options.values())


def _plan_households(session: Session, batch: Batch) -> None:
    targets = batch_targets
    is_staff = func.max(case((targets.c.is_staff, 1), else_=0)) == 1
    session.execute(
        insert(batch_households).from_select(
            ["batch_id", "household_id", "chunk_no", "is_staff"],
            select(
                literal(batch.id),
                HouseholdMember.household_id,
                func.min(targets.c.chunk_no),
                is_staff,
            )
            .select_from(targets)
            .join(HouseholdMember, HouseholdMember.person_id == targets.c.person_id)
            .join(Household, Household.id == HouseholdMember.household_id)
            .where(targets.c.batch_id == batch.id)
            .where(active(HouseholdMember.start_date, HouseholdMember.end_date, batch.as_of))
            .where(Household.phone.is_not(None), Household.phone != "")
            .group_by(HouseholdMember.household_id),
        )
    )
