"""`celery -A tests.support.twice_worker worker`: the product's worker, except that every
message a task sends goes to the broker twice, so every chunk is delivered twice at once."""

from collections.abc import Sequence

import worker.tasks as tasks
from shared.batches.pipeline.messages import Message
from worker import app

__all__ = ["app"]

_send_once = tasks.send


def _send_twice(celery: object, messages: Sequence[Message]) -> None:
    _send_once(celery, messages)  # type: ignore[arg-type]
    _send_once(celery, messages)  # type: ignore[arg-type]


tasks.send = _send_twice  # type: ignore[assignment]
