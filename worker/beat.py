"""Beat's scheduler: Celery's own (PersistentScheduler, the schedule kept in a file) that also
records its heartbeat in the database, where the web's health report (`beatLastTick`) and
/metrics read it. Configured as `beat_scheduler` (worker/celery_app.py), so `celery beat` and the
beat of `cpb run` both use it.

It records at most every HEARTBEAT_SECONDS, and wakes at least that often, so a healthy beat's
heartbeat is never much older than that. A database that does not answer never stops beat: the
heartbeat is skipped with a warning, and beat goes on sending the sweeper and the schedules'
tick (PostgreSQL is given a short connect timeout, so that an unreachable server costs seconds).
"""

import logging
import time
from datetime import UTC, datetime
from typing import Any, Final

from celery.beat import PersistentScheduler
from sqlalchemy.engine import make_url

from shared.access.heartbeats import BEAT, record_heartbeat
from shared.core.db import SessionFactory, make_engine, make_session_factory
from worker.runtime import settings_of

log = logging.getLogger(__name__)

HEARTBEAT_SECONDS: Final = 5.0
CONNECT_TIMEOUT_SECONDS: Final = 3


class HeartbeatScheduler(PersistentScheduler):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._sessions: SessionFactory | None = None
        self._recorded: float | None = None  # time.monotonic() of the last attempt
        super().__init__(*args, **kwargs)

    def tick(self, *args: Any, **kwargs: Any) -> float:
        interval: float = super().tick(*args, **kwargs)
        if self._recorded is None or time.monotonic() - self._recorded >= HEARTBEAT_SECONDS:
            self._recorded = time.monotonic()
            self.record_heartbeat()
        return min(interval, HEARTBEAT_SECONDS)

    def record_heartbeat(self) -> None:
        try:
            with self._session_factory().begin() as session:
                record_heartbeat(session, BEAT, datetime.now(UTC))
        except Exception as error:  # beat must go on: the sweeper matters more than this
            log.warning("beat heartbeat not recorded error=%r", error)

    def close(self) -> None:
        super().close()
        if self._sessions is not None:
            self._sessions.kw["bind"].dispose()

    def _session_factory(self) -> SessionFactory:
        if self._sessions is None:
            url = settings_of(self.app).database_url
            quick = {} if make_url(url).get_backend_name() == "sqlite" else _quick_connect()
            self._sessions = make_session_factory(make_engine(url, role="cpb-beat", **quick))
        return self._sessions


def _quick_connect() -> dict[str, Any]:
    return {"connect_args": {"connect_timeout": CONNECT_TIMEOUT_SECONDS}}
