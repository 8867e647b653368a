"""Finding batches: one by id, one the user may see, a page of those they may see."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shared.access.reach import batch_reach, ensure_batch_allowed, reach_of
from shared.core.errors import NotFound
from shared.core.vocabulary import BatchKind, BatchStatus, Mode
from shared.models import Batch, User


def get_batch(session: Session, batch_id: int) -> Batch:
    batch = session.get(Batch, batch_id)
    if batch is None or batch.kind == BatchKind.IMPORT:  # an import job's place in the order
        raise NotFound(f"no batch {batch_id}")
    return batch


def visible_batch(session: Session, batch_id: int, user: User | None) -> Batch:
    """The batch, if the user may see it (a school admin: one within their schools)."""
    batch = get_batch(session, batch_id)
    ensure_batch_allowed(session, reach_of(session, user), batch)
    return batch


@dataclass(frozen=True)
class Selection:
    """Which batches a list shows; each given criterion must hold."""

    status: BatchStatus | None = None
    mode: Mode | None = None
    submitter: str | None = None  # a username
    since: datetime | None = None  # submitted at or after
    before: datetime | None = None  # submitted before


def list_batches(
    session: Session,
    *,
    page: int,
    per_page: int,
    selection: Selection = Selection(),
    user: User | None = None,
) -> tuple[list[Batch], int]:
    """A page of the batches the user may see, newest first, and how many there are."""
    query = select(Batch).where(
        Batch.kind != BatchKind.IMPORT, batch_reach(reach_of(session, user))
    )
    if selection.status is not None:
        query = query.where(Batch.status == selection.status)
    if selection.mode is not None:
        query = query.where(Batch.mode == selection.mode)
    if selection.submitter is not None:
        query = query.where(
            Batch.submitted_by.in_(select(User.id).where(User.username == selection.submitter))
        )
    if selection.since is not None:
        query = query.where(Batch.submitted_at >= selection.since)
    if selection.before is not None:
        query = query.where(Batch.submitted_at < selection.before)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    items = session.scalars(
        query.order_by(Batch.id.desc()).offset((page - 1) * per_page).limit(per_page)
    ).all()
    return list(items), total
