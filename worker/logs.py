"""The worker's and beat's logs in the settings' format (shared/core/logs.py), each task's lines
with its batch and chunk.

Celery configures the root logger itself unless its `setup_logging` signal has a receiver; the
receiver here configures it instead, at the level Celery was given (`--loglevel`). Celery's own
lines ("celery@host ready.", a task received, succeeded) go through the same handler.
"""

import logging
import threading
from contextvars import Token
from typing import Any, Final

from celery import Celery, Task, signals

from shared.batches.pipeline.messages import APPLY_CHUNK, PLAN
from shared.core.logs import Context, bind, configure_logging, unbind
from worker.runtime import settings_of

# A task's name -> the context keys its leading arguments are bound to.
CONTEXT_OF_ARGS: Final[dict[str, tuple[str, ...]]] = {
    PLAN: ("batch",),
    APPLY_CHUNK: ("batch", "chunk"),
}

# (task id, thread) -> the token of what was bound for it, until it has run.
_tokens: dict[tuple[str, int], Token[Context]] = {}


def connect_logging(app: Celery) -> None:
    """Once `app` starts a worker or beat, logging is configured from its settings (a worker's
    as soon as it is made: what it warns of before it sets up logging is a line like the rest)."""

    def setup_logging(loglevel: int | str | None = None, **_: Any) -> None:
        configure_logging(settings_of(app).log_format, level=loglevel or logging.INFO)

    def worker_made(instance: Any, options: dict[str, Any], **_: Any) -> None:
        if instance.app is app:
            setup_logging(options.get("loglevel"))

    # Held by the app, so the signals (which hold them weakly) forget them with the app.
    app.cpb_logging_receivers = (setup_logging, worker_made)
    signals.setup_logging.connect(setup_logging)
    signals.celeryd_init.connect(worker_made)
    signals.task_prerun.connect(bind_task, weak=False)
    signals.task_postrun.connect(unbind_task, weak=False)


def bind_task(task_id: str, task: Task, args: Any = (), **_: Any) -> None:
    keys = CONTEXT_OF_ARGS.get(task.name, ())
    token = bind(**dict(zip(keys, args or (), strict=False)))
    _tokens[(task_id, threading.get_ident())] = token


def unbind_task(task_id: str, **_: Any) -> None:
    token = _tokens.pop((task_id, threading.get_ident()), None)
    if token is not None:
        unbind(token)
