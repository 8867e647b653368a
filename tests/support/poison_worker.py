"""`celery -A tests.support.poison_worker worker`: the product's worker, except that applying
chunk 1 of batch 1 kills the pool process that applies it (as running out of memory would),
every time."""

import os
import signal
from datetime import datetime

from sqlalchemy.orm import Session

from shared import pipeline
from worker import app

__all__ = ["app"]

_run_chunk = pipeline.run_chunk


def _run_chunk_or_die(session: Session, batch_id: int, chunk_no: int, now: datetime) -> bool:
    if (batch_id, chunk_no) == (1, 1):
        os.kill(os.getpid(), signal.SIGKILL)
    return _run_chunk(session, batch_id, chunk_no, now)


pipeline.run_chunk = _run_chunk_or_die
