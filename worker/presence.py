"""The Celery workers running in this process, for `cpb run`: its worker runs in the web's
process (on the in-memory transport, with the solo pool, a ping cannot reach it), so the health
report asks here instead. A worker counts from the moment it is ready to its shutdown."""

from typing import Any

from celery import signals

_ready: set[int] = set()  # id() of each worker controller ready in this process


def workers_here() -> int:
    return len(_ready)


@signals.worker_ready.connect
def _ready_now(sender: Any, **_: Any) -> None:
    _ready.add(id(sender.controller))


@signals.worker_shutdown.connect
def _shut_down(sender: Any, **_: Any) -> None:
    _ready.discard(id(sender))
