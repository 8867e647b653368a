"""The default enqueue and broker checks: a Celery app used as a client only, built on first use
(an app given its own `enqueue`, `broker_check` and `worker_probe` builds one only for the
queue's depth, in its health report and /metrics)."""

import threading
from collections.abc import Callable
from typing import Any

from celery import Celery
from kombu.exceptions import ChannelError

from shared.core.settings import Settings
from worker.celery_app import create_celery

BROKER_TIMEOUT_SECONDS = 2.0
# A ping waits this long for every worker's answer, whether they answer sooner or not.
PING_TIMEOUT_SECONDS = 0.5
REPLY_POLL_SECONDS = 0.1


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

    def count_workers(self) -> int:
        """The workers that answer a ping within PING_TIMEOUT_SECONDS; 0 on Celery's in-memory
        transport, which reaches no other process (`cpb run` counts its own worker instead,
        worker/presence.py)."""
        celery = self.celery()
        if str(celery.conf.broker_url).startswith("memory://"):
            return 0
        # A connection of its own, closed after the ping. On Redis a pooled one would still be
        # waiting for replies (a BRPOP, 1 s by default) after the ping is over, and take the
        # next ping's replies: a report a moment after another counted no worker. Closing it
        # waits for that BRPOP, so it is made short.
        quick = {"polling_interval": REPLY_POLL_SECONDS}
        with celery.connection_for_write(
            connect_timeout=BROKER_TIMEOUT_SECONDS, transport_options=quick
        ) as connection:
            replies = celery.control.ping(timeout=PING_TIMEOUT_SECONDS, connection=connection)
        return len(replies or [])

    def queue_depth(self) -> int:
        """The messages waiting in the tasks' queue, by a passive declare: kombu's virtual
        transports count them (on Redis, the lists of every priority). A queue the broker does
        not hold (Redis drops an empty list) has none."""
        celery = self.celery()
        connection = celery.connection_for_read(connect_timeout=BROKER_TIMEOUT_SECONDS)
        with connection:
            try:
                declared = connection.default_channel.queue_declare(
                    queue=celery.conf.task_default_queue, passive=True
                )
            except ChannelError as error:
                if str(getattr(error, "reply_code", "")) == "404":  # NOT_FOUND
                    return 0
                raise
        return int(declared.message_count)
