"""GET /api/v1/health and its two forms (no sign-in needed; docs/operations.md says which to use
for what):

- `/health`: the database, the broker, the workers that answer a ping, beat's last tick and the
  queue's depth; 200 while the database and the broker answer, even with no worker, else 503.
- `/health/ready`: the same report, and 503 also when no worker answered.
- `/health/live`: 200 as long as the process answers; it touches nothing.

A ping waits its whole timeout (web/celery_client.py), so the report takes about 0.6 s.
"""

import logging
from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

from flask import Flask, Response
from sqlalchemy import text

from shared.access.heartbeats import BEAT, last_heartbeat
from web.api.bodies import Health, Liveness, State
from web.api.routes import JSON, api
from web.services import services

log = logging.getLogger(__name__)

T = TypeVar("T")


@api.get(
    "/health",
    summary="Whether the database and the broker answer, and what the workers and beat do",
    response=Health,
    other={503: Health},
    public=True,
)
def health() -> Response:
    report = _report()
    return _answer(report, report.database == report.broker == "ok")


@api.get(
    "/health/ready",
    summary="The health report; 503 also when no worker answers",
    response=Health,
    other={503: Health},
    public=True,
)
def health_ready() -> Response:
    report = _report()
    return _answer(report, report.database == report.broker == "ok" and report.workers > 0)


@api.get("/health/live", summary="Whether the web process answers", response=Liveness, public=True)
def health_live() -> Liveness:
    return Liveness(status="ok")


def warm_up(app: Flask) -> None:
    """Connects to the database and the broker once, as a report would, without pinging the
    workers: gunicorn calls this as each of its workers starts (web/gunicorn_conf.py)."""
    with app.app_context():
        _probe("database", _ping_database)
        _probe("broker", services().broker_check)


def _report() -> Health:
    web = services()
    database = _probe("database", _ping_database)
    broker = _probe("broker", web.broker_check)
    up = broker == "ok"
    return Health(
        database=database,
        broker=broker,
        workers=(_read("workers", web.worker_probe) or 0) if up else 0,
        beat_last_tick=_read("beat", _beat_last_tick) if database == "ok" else None,
        queue_depth=_read("queue", web.queue_depth) if up else None,
    )


def _answer(report: Health, healthy: bool) -> Response:
    return Response(report.to_json(), status=200 if healthy else 503, mimetype=JSON)


def _ping_database() -> None:
    with services().session_factory() as session:
        session.execute(text("SELECT 1"))


def _beat_last_tick() -> datetime | None:
    with services().session_factory() as session:
        return last_heartbeat(session, BEAT)


def _probe(name: str, check: Callable[[], None]) -> State:
    try:
        check()
    except Exception as error:  # any failure means "down"; the reason goes to the log
        log.warning("health=%s state=down error=%r", name, error)
        return "down"
    return "ok"


def _read(name: str, read: Callable[[], T]) -> T | None:
    """What `read` answers, or None when it fails (logged, as a probe's failure is)."""
    try:
        return read()
    except Exception as error:
        log.warning("health=%s state=down error=%r", name, error)
        return None
