"""Saved ad hoc filters (SPEC section 6)."""

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.access.accounts import record_audit
from shared.access.reach import filter_reach, reach_of
from shared.core.errors import InvalidRequest
from shared.core.request_shape import object_with_fields
from shared.filters.criteria import parse_criteria
from shared.models import Filter, User

FILTER_FIELDS = frozenset({"name", "kind", "criteria"})


def create_filter(session: Session, payload: Any, *, user: User | None) -> Filter:
    payload = object_with_fields(payload, FILTER_FIELDS)
    name = payload.get("name")
    if not isinstance(name, str) or not name.strip():
        raise InvalidRequest("a filter needs a name", field="name")
    criteria = parse_criteria(payload.get("kind"), payload.get("criteria"))
    saved = Filter(
        name=name.strip(),
        kind=payload["kind"],
        criteria=criteria,
        owner_id=user.id if user else None,
    )
    session.add(saved)
    session.flush()
    record_audit(
        session,
        username=user.username if user else None,
        action="filter.create",
        subject=f"filter:{saved.id}",
        detail={"name": saved.name, "kind": saved.kind},
    )
    return saved


def list_filters(
    session: Session, kind: str | None = None, *, user: User | None = None
) -> list[Filter]:
    """The filters the user may use (a school admin: their own), by name."""
    query = select(Filter).where(filter_reach(reach_of(session, user)))
    query = query.order_by(Filter.name, Filter.id)
    if kind is not None:
        query = query.where(Filter.kind == kind)
    return list(session.scalars(query))


def filter_view(saved: Filter) -> dict[str, Any]:
    return {"id": saved.id, "name": saved.name, "kind": saved.kind, "criteria": saved.criteria}
