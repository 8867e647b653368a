"""Runs a batch through the pipeline steps in this process, in the order a worker would.

For tests of the rules through the service layer; the tests of the pipeline itself use a real
Celery worker process (tests/test_pipeline.py)."""

from datetime import UTC, date, datetime
from typing import Any

from shared import pipeline
from shared.batch_service import batch_view, get_batch, submit_batch
from shared.db import SessionFactory

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
            queue += pipeline.dispatch(session, now)


def run_batch(
    factory: SessionFactory, payload: dict[str, Any], *, chunk_size: int = 2, today: date = TODAY
) -> dict[str, Any]:
    with factory.begin() as session:
        batch, _ = submit_batch(session, payload, user=None, today=today)
        batch_id = batch.id
    drain(factory, [pipeline.Message(pipeline.PLAN, (batch_id,))], chunk_size)
    with factory.begin() as session:
        return batch_view(session, get_batch(session, batch_id))
