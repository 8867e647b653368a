"""Runs a batch through the pipeline steps in this process, in the order a worker would.

For tests of the rules through the service layer; the tests of the pipeline itself use a real
Celery worker process (tests/test_pipeline.py)."""

from datetime import UTC, date, datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy.orm import Session

from shared.batches.actions import apply_preview, undo_batch
from shared.batches.lookup import get_batch
from shared.batches.pipeline import messages
from shared.batches.pipeline import steps as pipeline
from shared.batches.pipeline.messages import Message
from shared.batches.request import parse_batch_request
from shared.batches.submit import Submitted, submit_batch
from shared.batches.views import batch_view
from shared.core.contract import parse
from shared.core.db import SessionFactory
from shared.filters.criteria import FilterRequest
from shared.filters.service import create_filter
from shared.models import Filter, User
from shared.people.edit import HouseholdEdit, PersonEdit

TODAY = date(2025, 10, 15)


def submit(
    session: Session,
    body: dict[str, Any],
    *,
    today: date = TODAY,
    user: User | None = None,
    idempotency_key: str | None = None,
) -> Submitted:
    """Submit a request body as the API does: parsed, then submitted."""
    request = parse_batch_request(body)
    return submit_batch(session, request, user=user, today=today, idempotency_key=idempotency_key)


def save_filter(session: Session, body: dict[str, Any], *, user: User | None = None) -> Filter:
    """Save a filter from a request body, as the API does."""
    return create_filter(session, parse(FilterRequest, body), user=user)


def as_json(view: BaseModel) -> Any:
    """A view as the API writes it out."""
    return view.model_dump(mode="json", by_alias=True)


def person_edit(body: Any) -> PersonEdit:
    """A person's preference edit, parsed as the API parses it."""
    return parse(PersonEdit, body)


def household_edit(body: Any) -> HouseholdEdit:
    """A household's preference edit, parsed as the API parses it."""
    return parse(HouseholdEdit, body)


def drain(factory: SessionFactory, sent: list[Message], chunk_size: int) -> None:
    queue = list(sent)
    while queue:
        message = queue.pop(0)
        now = datetime.now(UTC)
        with factory.begin() as session:
            if message.task == messages.PLAN:
                queue += pipeline.plan(session, message.args[0], chunk_size, now)
                continue
            pipeline.run_chunk(session, *message.args, now)
        with factory.begin() as session:
            queue += pipeline.after_chunk(session, message.args[0], now)


def run_batch(
    factory: SessionFactory, payload: dict[str, Any], *, chunk_size: int = 2, today: date = TODAY
) -> dict[str, Any]:
    with factory.begin() as session:
        batch_id = submit(session, payload, today=today).batch.id
    return _drained(factory, batch_id, chunk_size)


def run_undo(factory: SessionFactory, batch_id: int, *, chunk_size: int = 2) -> dict[str, Any]:
    with factory.begin() as session:
        undo_id = undo_batch(session, batch_id, user=None).batch.id
    return _drained(factory, undo_id, chunk_size)


def run_apply(factory: SessionFactory, preview_id: int, *, chunk_size: int = 2) -> dict[str, Any]:
    with factory.begin() as session:
        batch_id = apply_preview(session, preview_id, user=None).batch.id
    return _drained(factory, batch_id, chunk_size)


def view_of(factory: SessionFactory, batch_id: int) -> dict[str, Any]:
    """The batch as the API shows it, in JSON."""
    with factory() as session:
        return as_json(batch_view(session, get_batch(session, batch_id)))


def _drained(factory: SessionFactory, batch_id: int, chunk_size: int) -> dict[str, Any]:
    drain(factory, [messages.plan(batch_id)], chunk_size)
    return view_of(factory, batch_id)
