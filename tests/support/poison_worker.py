"""`celery -A tests.support.poison_worker worker`: the product's worker, except that the step
named by CPB_TEST_POISON kills the pool process running it (as running out of memory would),
every time it has work to do: `plan` planning batch 1, `chunk` applying chunk 1 of batch 1. A
copy that finds the work done or the batch over is left alone, as the real step would be."""

import os
import signal
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from shared.batches.pipeline import steps as pipeline
from shared.core.vocabulary import ACTIVE_STATUSES
from shared.models import Batch, BatchChunk
from worker import app

__all__ = ["app"]

_plan, _run_chunk = pipeline.plan, pipeline.run_chunk
POISON = os.environ["CPB_TEST_POISON"]


def _die_if(poisoned: bool) -> None:
    if poisoned:
        os.kill(os.getpid(), signal.SIGKILL)


def _plan_or_die(session: Session, batch_id: int, chunk_size: int, now: datetime) -> Any:
    if POISON == "plan" and batch_id == 1:
        batch = session.get(Batch, batch_id)
        _die_if(batch is not None and batch.status in ACTIVE_STATUSES and not batch.planned)
    return _plan(session, batch_id, chunk_size, now)


def _run_chunk_or_die(session: Session, batch_id: int, chunk_no: int, now: datetime) -> bool:
    if POISON == "chunk" and (batch_id, chunk_no) == (1, 1):
        batch, chunk = session.get(Batch, batch_id), session.get(BatchChunk, (batch_id, chunk_no))
        _die_if(batch is not None and batch.status == "running" and not (chunk and chunk.done))
    return _run_chunk(session, batch_id, chunk_no, now)


pipeline.plan = _plan_or_die
pipeline.run_chunk = _run_chunk_or_die
