"""What the app factory was given (settings, sessions, enqueue, broker check), for the views."""

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


@dataclass(frozen=True)
class WebServices:
    settings: Settings
    session_factory: SessionFactory
    enqueue: Enqueue
    broker_check: BrokerCheck

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
