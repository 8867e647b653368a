"""Runs a batch through the pipeline steps in this process, in the order a worker would.

For tests of the rules through the service layer; the tests of the pipeline itself use a real
Celery worker process (tests/test_pipeline.py)."""

from datetime import UTC, date, datetime
from typing import Any

from shared.batches.actions import apply_preview, undo_batch
from shared.batches.pipeline import steps as pipeline
from shared.batches.service import get_batch, submit_batch
from shared.batches.views import batch_view
from shared.core.db import SessionFactory

TODAY = date(2025, 10, 15)


def drain(factory: SessionFactory, messages: list[pipeline.Message], chunk_size: int) -> None:
    queue = list(messages)
    while queue:
        message = queue.pop(0)
        now = datetime.now(UTC)
        with factory.begin() as session:
            if message.task == pipeline.PLAN:
                queue += pipeline.plan(session, message.args[0], chunk_size, now)
                continue
            pipeline.run_chunk(session, *message.args, now)
        with factory.begin() as session:
            queue += pipeline.after_chunk(session, message.args[0], now)


def run_batch(
    factory: SessionFactory, payload: dict[str, Any], *, chunk_size: int = 2, today: date = TODAY
) -> dict[str, Any]:
    with factory.begin() as session:
        batch, _ = submit_batch(session, payload, user=None, today=today)
        batch_id = batch.id
    return _drained(factory, batch_id, chunk_size)


def run_undo(factory: SessionFactory, batch_id: int, *, chunk_size: int = 2) -> dict[str, Any]:
    with factory.begin() as session:
        undo_id = undo_batch(session, batch_id, user=None).id
    return _drained(factory, undo_id, chunk_size)


def run_apply(factory: SessionFactory, preview_id: int, *, chunk_size: int = 2) -> dict[str, Any]:
    with factory.begin() as session:
        batch_id = apply_preview(session, preview_id, user=None)[0].id
    return _drained(factory, batch_id, chunk_size)


def view_of(factory: SessionFactory, batch_id: int) -> dict[str, Any]:
    with factory() as session:
        return batch_view(session, get_batch(session, batch_id))


def _drained(factory: SessionFactory, batch_id: int, chunk_size: int) -> dict[str, Any]:
    drain(factory, [pipeline.Message(pipeline.PLAN, (batch_id,))], chunk_size)
    return view_of(factory, batch_id)
