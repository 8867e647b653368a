"""The default enqueue and broker check: a Celery app used as a client only, built on first use
(so an app built with an injected `enqueue` and `broker_check` never configures one)."""

import threading
from collections.abc import Callable
from typing import Any

from celery import Celery

from shared.core.settings import Settings
from worker.celery_app import create_celery

BROKER_TIMEOUT_SECONDS = 2.0


class CeleryClient:
    def __init__(self, make_celery: Callable[[], Celery]) -> None:
        self._make_celery = make_celery
        self._celery: Celery | None = None
        self._lock = threading.Lock()

    @classmethod
    def for_settings(cls, settings: Settings) -> "CeleryClient":
        return cls(lambda: create_celery(settings))

    def celery(self) -> Celery:
        with self._lock:
            if self._celery is None:
                self._celery = self._make_celery()
            return self._celery

    def enqueue(self, task_name: str, *args: Any) -> None:
        self.celery().send_task(task_name, args=list(args))

    def check_broker(self) -> None:
        """Connects once, with a short timeout; raises when the broker does not answer."""
        connection = self.celery().connection_for_write(connect_timeout=BROKER_TIMEOUT_SECONDS)
        with connection:
            connection.ensure_connection(
                max_retries=1, interval_start=0, interval_step=0, timeout=BROKER_TIMEOUT_SECONDS
            )
