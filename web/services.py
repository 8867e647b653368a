"""What the app factory was given (settings, sessions, enqueue, the broker's checks), for the
views."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Final

from flask import Flask, current_app

from shared.core.db import SessionFactory
from shared.core.settings import Settings

EXTENSION: Final = "cpb"

# enqueue("batches.plan", batch_id): sends one task by name; called only after a commit.
Enqueue = Callable[..., None]
# Returns when the broker answers, raises when it does not.
BrokerCheck = Callable[[], None]
# How many Celery workers answer (a ping through the broker, or cpb run's own worker).
WorkerProbe = Callable[[], int]
# How many messages wait in the broker's queue; raises when the broker does not answer.
QueueDepth = Callable[[], int]


@dataclass(frozen=True)
class WebServices:
    settings: Settings
    session_factory: SessionFactory
    enqueue: Enqueue
    broker_check: BrokerCheck
    worker_probe: WorkerProbe
    queue_depth: QueueDepth

    def today(self) -> date:
        """Today in the district's time zone: the default as-of date."""
        return datetime.now(self.settings.zone).date()

    @staticmethod
    def now() -> datetime:
        return datetime.now(UTC)


def install(app: Flask, web_services: WebServices) -> None:
    app.extensions[EXTENSION] = web_services


def services() -> WebServices:
    web_services: Any = current_app.extensions[EXTENSION]
    return web_services  # type: ignore[no-any-return]
