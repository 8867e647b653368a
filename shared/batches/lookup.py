"""Finding batches: one by id, one the user may see, a page of those they may see."""

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shared.access.reach import batch_reach, ensure_batch_allowed, reach_of
from shared.core.errors import NotFound
from shared.core.vocabulary import BatchKind, BatchStatus
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


def list_batches(
    session: Session,
    *,
    page: int,
    per_page: int,
    status: BatchStatus | None,
    user: User | None = None,
) -> tuple[list[Batch], int]:
    """A page of the batches the user may see, newest first, and how many there are."""
    query = select(Batch).where(
        Batch.kind != BatchKind.IMPORT, batch_reach(reach_of(session, user))
    )
    if status is not None:
        query = query.where(Batch.status == status)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    items = session.scalars(
        query.order_by(Batch.id.desc()).offset((page - 1) * per_page).limit(per_page)
    ).all()
    return list(items), total
