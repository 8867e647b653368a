"""The batch pipeline's steps: plan, apply a chunk, finalize (docs/reliability.md); what the
sweeper re-sends is found by recovery.py.

Batches (and undos, which are batches too) apply one after another in submission order; the
chunks of the running batch apply in parallel. Each step runs in the caller's transaction and
returns the messages to send once that transaction has committed, so no message ever names a
row that is not there yet. Every step is idempotent, so a message delivered twice, or re-sent by
the sweeper, does no harm.
"""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from shared.batches.pipeline import messages
from shared.batches.pipeline.chunk_apply import apply_chunk
from shared.batches.pipeline.chunk_reach import chunk_reach, undo_chunk_people
from shared.batches.pipeline.chunk_undo import undo_chunk
from shared.batches.pipeline.import_chunk import run_import_chunk
from shared.batches.pipeline.messages import Message
from shared.batches.pipeline.planning import plan_batch
from shared.batches.result import add_into, result_table, zero_matrix
from shared.batches.rules import moved
from shared.core.vocabulary import ACTIVE_STATUSES, BatchKind, BatchStatus
from shared.models import Batch, BatchChunk, ImportJob


def plan(session: Session, batch_id: int, chunk_size: int, now: datetime) -> list[Message]:
    plan_batch(session, batch_id, chunk_size)
    return _dispatch_after(session, batch_id, now)


def start_plan(session: Session, batch_id: int, attempts: int) -> str | None:
    """Count a start of planning a batch not yet planned, in a transaction of its own before
    the plan runs (see start_chunk). Returns the error that fails the batch once `attempts`
    starts were spent, else None."""
    batch = session.get(Batch, batch_id, with_for_update=True, populate_existing=True)
    if batch is None or batch.planned or batch.status not in ACTIVE_STATUSES:
        return None
    if batch.plan_attempts >= attempts:
        return (
            f"planning was started {batch.plan_attempts} times and never finished "
            "(its worker stopped or failed each time)"
        )
    batch.plan_attempts += 1
    return None


def start_chunk(session: Session, batch_id: int, chunk_no: int, attempts: int) -> str | None:
    """Count a start of a chunk not yet done, in a transaction of its own before it runs, so
    that a start whose worker dies (killed, out of memory) still counts. A chunk that kills its
    worker every time would otherwise come back for ever (the message is given back whenever its
    worker dies) and hold up every later batch. Returns the error that fails the batch once
    `attempts` starts were spent, else None.

    The chunk row's lock makes a copy that arrives while the chunk runs wait for it, then find
    it done without counting."""
    chunk = session.get(
        BatchChunk, (batch_id, chunk_no), with_for_update=True, populate_existing=True
    )
    if chunk is None or chunk.done:
        return None
    if chunk.attempts >= attempts:
        return (
            f"chunk {chunk_no} was started {chunk.attempts} times and never finished "
            "(its worker stopped or failed each time)"
        )
    chunk.attempts += 1
    return None


@dataclass(frozen=True)
class ChunkRun:
    """A chunk that ran: what kind of work it was ("apply", "undo" or "import"), and how many
    values it changed."""

    kind: str
    changed: int


def run_chunk(session: Session, batch_id: int, chunk_no: int, now: datetime) -> ChunkRun | None:
    """Apply one chunk once: a chunk already done, or of a batch no longer running (cancelled,
    failed), is skipped (None).

    The batch row is share-locked first, so chunks run side by side while a cancel or the
    finalize (which lock it for update) waits for those in flight and sees their counts. The
    chunk row is locked after it: every step that locks both takes the batch first, so none
    waits for another in a circle (start_chunk locks the chunk alone, and waits for nothing
    else while it holds it).
    """
    batch = session.get(Batch, batch_id, with_for_update={"read": True}, populate_existing=True)
    if batch is None or batch.status != BatchStatus.RUNNING:
        return None
    chunk = session.get(
        BatchChunk, (batch_id, chunk_no), with_for_update=True, populate_existing=True
    )
    if chunk is None or chunk.done:
        return None
    kind = "apply"
    if batch.kind == BatchKind.IMPORT:
        kind = "import"
        run_import_chunk(session, batch, now)
    elif batch.undo_of is not None:
        kind = "undo"
        chunk.counts, chunk.kept = undo_chunk(session, batch_id, batch.undo_of, chunk_no)
        chunk.people = undo_chunk_people(session, batch.undo_of, chunk_no)
    else:
        reach = chunk_reach(session, batch_id, chunk_no, batch.changes, batch.as_of)
        chunk.people = reach.people
        chunk.reached_people = reach.reached_people
        chunk.reached_households = reach.reached_households
        chunk.counts, chunk.kept = apply_chunk(
            session,
            batch_id,
            chunk_no,
            batch.changes,
            keep_guardian=batch.keep_guardian_choices,
            dry_run=batch.dry_run,
        )
    chunk.done = True
    chunk.done_at = now
    return ChunkRun(kind, sum(map(sum, chunk.counts or [])))


def after_chunk(session: Session, batch_id: int, now: datetime) -> list[Message]:
    """What follows a chunk: nothing while others of its batch are still to do, else dispatch.

    A chunk that is not the last leaves the head's row alone, so it never waits for the chunks
    still in flight (which share-lock it); of the last chunks to finish, the one that commits
    last sees none pending and moves the pipeline on."""
    if _pending_chunks(session, batch_id):
        return []
    return dispatch(session, now)


def dispatch(session: Session, now: datetime) -> list[Message]:
    """Move the oldest unfinished batch on: start its chunks once it is planned, or finalize it
    when they are all done and go on to the next one."""
    messages: list[Message] = []
    while (batch := _lock_head(session)) is not None:
        if not batch.planned:
            return messages  # its plan, when it runs, dispatches again
        if batch.status == BatchStatus.QUEUED:
            batch.status = moved(batch.status, BatchStatus.RUNNING)
            batch.started_at = now
            chunks = _enqueue_chunks(session, batch.id, now)
            if chunks:
                return messages + chunks
        elif _pending_chunks(session, batch.id):
            return messages
        _finalize(session, batch, now, status=BatchStatus.SUCCEEDED)
    return messages


def move_on(session: Session, now: datetime) -> tuple[list[Message], int]:
    """The sweeper's dispatch: only where a step that would have dispatched was lost (a batch
    planned but not started, or whose chunks are all done but that is not finalized). It never
    waits for a plan or for chunks in flight, whose rows it would otherwise lock behind them.
    Returns the messages to send and how many batches it finalized."""
    head = head_id(session)
    if head is None:
        return [], 0
    status, planned = session.execute(
        select(Batch.status, Batch.planned).where(Batch.id == head)
    ).one()
    if not planned or (status == BatchStatus.RUNNING and _pending_chunks(session, head)):
        return [], 0
    active = _active_count(session)
    found = dispatch(session, now)
    return found, active - _active_count(session)


def _active_count(session: Session) -> int:
    return session.scalar(select(func.count()).where(Batch.status.in_(ACTIVE_STATUSES))) or 0


def fail(session: Session, batch_id: int, error: str, now: datetime) -> list[Message]:
    """Mark a batch failed (what it applied stays applied and counted), then go on."""
    batch = session.get(Batch, batch_id, with_for_update=True, populate_existing=True)
    if batch is not None and batch.status in ACTIVE_STATUSES:
        batch.errors = [*batch.errors, error]
        _finalize(session, batch, now, status=BatchStatus.FAILED)
    return _dispatch_after(session, batch_id, now)


def cancel(session: Session, batch: Batch, now: datetime) -> list[Message]:
    """Stop a batch between chunks: the chunks done stay applied and counted, the others are
    skipped when their messages arrive. The caller has locked the batch row for update (which
    waits for the chunks in flight) and checked that it is still active."""
    _finalize(session, batch, now, status=BatchStatus.CANCELLED)
    return _dispatch_after(session, batch.id, now)


def _dispatch_after(session: Session, batch_id: int, now: datetime) -> list[Message]:
    """Dispatch after a step that locked batch `batch_id`, unless an older batch is active.

    Batch rows are locked in id order: dispatch locks the oldest active batch, finalizes it and
    goes on to the next. Locking an older one after this one would take them in the opposite
    order, and wait for ever on a dispatch that holds the older one and wants this one (found
    by the load test: a plan and the finalize of the batch before it). The older batch moves the
    pipeline on to this one when it finishes, so nothing is lost by leaving it alone."""
    older = select(Batch.id).where(Batch.status.in_(ACTIVE_STATUSES), Batch.id < batch_id)
    if session.scalar(older.limit(1)) is not None:
        return []
    return dispatch(session, now)


def head_id(session: Session) -> int | None:
    return session.scalar(select(func.min(Batch.id)).where(Batch.status.in_(ACTIVE_STATUSES)))


def _lock_head(session: Session) -> Batch | None:
    while (head := head_id(session)) is not None:
        batch = session.get(Batch, head, with_for_update=True, populate_existing=True)
        if batch is not None and batch.status in ACTIVE_STATUSES:
            return batch
    return None


def _pending_chunks(session: Session, batch_id: int) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(BatchChunk)
            .where(BatchChunk.batch_id == batch_id, BatchChunk.done.is_(False))
        )
        or 0
    )


def _enqueue_chunks(session: Session, batch_id: int, now: datetime) -> list[Message]:
    query = select(BatchChunk.chunk_no).where(
        BatchChunk.batch_id == batch_id, BatchChunk.done.is_(False)
    )
    numbers = session.scalars(query.order_by(BatchChunk.chunk_no)).all()
    if numbers:
        session.execute(
            update(BatchChunk)
            .where(BatchChunk.batch_id == batch_id, BatchChunk.chunk_no.in_(numbers))
            .values(enqueued_at=now)
        )
    return [messages.apply_chunk(batch_id, number) for number in numbers]


def _finalize(session: Session, batch: Batch, now: datetime, status: BatchStatus) -> None:
    if batch.kind == BatchKind.IMPORT:
        errors = session.scalar(select(ImportJob.errors).where(ImportJob.batch_id == batch.id))
        if errors and status == BatchStatus.SUCCEEDED:
            status = BatchStatus.FAILED
        batch.status = moved(batch.status, status)
        batch.finished_at = now
        return
    changed, kept = zero_matrix(), zero_matrix()
    people = reached = households = 0
    for chunk in session.scalars(
        select(BatchChunk).where(BatchChunk.batch_id == batch.id, BatchChunk.done.is_(True))
    ):
        add_into(changed, chunk.counts)
        add_into(kept, chunk.kept)
        people += chunk.people or 0
        reached += chunk.reached_people or 0
        households += chunk.reached_households or 0
    batch.counts = result_table(batch.changes, changed)
    if batch.undo_of is not None:  # an undo's second count is its conflicts
        batch.conflicts = result_table(batch.changes, kept)
        kept = zero_matrix()
    else:
        batch.reached_people, batch.reached_households = reached, households
        batch.skipped_no_address = people - reached
    batch.kept = result_table(batch.changes, kept)
    batch.status = moved(batch.status, status)
    batch.finished_at = now
