"""What a task needs at run time: the settings and a session factory, one per process."""

from collections.abc import Sequence
from datetime import UTC, datetime
from functools import cache

from celery import Celery

from shared.batches.pipeline.messages import Message
from shared.core.db import SessionFactory, make_engine, make_session_factory
from shared.core.settings import Settings


def settings_of(app: Celery) -> Settings:
    settings: Settings = app.conf.cpb_settings
    return settings


@cache
def session_factory(database_url: str) -> SessionFactory:
    # Built lazily in each worker process (after the prefork), never shared across a fork.
    return make_session_factory(make_engine(database_url, role="cpb-worker"))


def send(app: Celery, messages: Sequence[Message]) -> None:
    for message in messages:
        app.send_task(message.task, args=list(message.args))


def now() -> datetime:
    return datetime.now(UTC)
