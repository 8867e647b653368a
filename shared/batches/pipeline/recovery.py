"""Finding the plans and chunks whose message was lost, within seconds (docs/reliability.md).

The database knows what is still to do, and a live transaction holds the row of whatever is being
worked on: a plan locks its batch row, a chunk its chunk row, from start to commit. A row that is
still to do and not locked waits for its message: in the broker's queue, or with a worker between
two steps (received, or waiting to retry after a failure). Or the message is gone, with a worker
that died or a broker that lost its queue. The sweeper (worker/recovery.py) asks the broker's
queue and the live workers what they hold, and re-sends only what nobody holds. Rows are never
re-sent while locked, so a slow but live chunk (a long lock wait, a big chunk) is left alone.

A copy sent by mistake is harmless: it finds its chunk done (or waits for the lock, then finds it
done) and does nothing.
"""

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from shared.batches.pipeline import messages
from shared.batches.pipeline.messages import Message
from shared.batches.pipeline.steps import head_id
from shared.core.vocabulary import ACTIVE_STATUSES, BatchStatus
from shared.models import Batch, BatchChunk


def waiting(session: Session, sent_before: datetime) -> list[Message]:
    """The messages of the work still to do whose row no transaction holds: the plans of active
    batches not yet planned (submitted before `sent_before`), and the chunks of the running
    batch not yet done (last sent before `sent_before`). Locked rows are skipped (PostgreSQL's
    SKIP LOCKED; SQLite has one writer at a time, so nothing is half-way while this runs)."""
    found = [messages.plan(batch_id) for batch_id in _unplanned(session, sent_before, None)]
    head = head_id(session)
    if head is not None:
        found += [
            messages.apply_chunk(head, chunk_no)
            for chunk_no in _chunks_to_do(session, head, sent_before, None)
        ]
    return found


def resend(
    session: Session, lost: Sequence[Message], sent_before: datetime, now: datetime
) -> list[Message]:
    """Of the messages found lost, those whose work is still to do, still not locked and (for a
    chunk) not sent again since: each chunk's sending time is moved to now, so that another
    sweep running at the same time does not send it too. Returns the messages to send once this
    transaction has committed."""
    plans = [m.args[0] for m in lost if m.task == messages.PLAN]
    chunks = [m.args for m in lost if m.task == messages.APPLY_CHUNK]
    found = [messages.plan(batch_id) for batch_id in _unplanned(session, sent_before, plans)]
    for batch_id in sorted({batch_id for batch_id, _ in chunks}):
        numbers = _chunks_to_do(
            session, batch_id, sent_before, [n for b, n in chunks if b == batch_id]
        )
        if numbers:
            session.execute(
                update(BatchChunk)
                .where(BatchChunk.batch_id == batch_id, BatchChunk.chunk_no.in_(numbers))
                .values(enqueued_at=now)
            )
        found += [messages.apply_chunk(batch_id, number) for number in numbers]
    return found


def _unplanned(session: Session, sent_before: datetime, among: list[int] | None) -> list[int]:
    query = select(Batch.id).where(
        Batch.status.in_(ACTIVE_STATUSES),
        Batch.planned.is_(False),
        Batch.submitted_at < sent_before,
    )
    if among is not None:
        query = query.where(Batch.id.in_(among))
    return list(session.scalars(query.order_by(Batch.id).with_for_update(skip_locked=True)))


def _chunks_to_do(
    session: Session, batch_id: int, sent_before: datetime, among: list[int] | None
) -> list[int]:
    query = (
        select(BatchChunk.chunk_no)
        .join(Batch, Batch.id == BatchChunk.batch_id)
        .where(
            BatchChunk.batch_id == batch_id,
            BatchChunk.done.is_(False),
            BatchChunk.enqueued_at < sent_before,
            Batch.status == BatchStatus.RUNNING,
        )
    )
    if among is not None:
        query = query.where(BatchChunk.chunk_no.in_(among))
    locked = query.order_by(BatchChunk.chunk_no).with_for_update(of=BatchChunk, skip_locked=True)
    return list(session.scalars(locked))
