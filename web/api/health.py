"""GET /api/v1/health: whether the database and the broker answer (no sign-in needed)."""

import logging
from collections.abc import Callable

from flask import Blueprint, Response, jsonify
from sqlalchemy import text

from web.services import services

log = logging.getLogger(__name__)

OK = "ok"
DOWN = "down"


def register(api: Blueprint) -> None:
    api.add_url_rule("/health", "health", health, methods=["GET"])


def health() -> tuple[Response, int]:
    web_services = services()
    report = {
        "database": _probe("database", _ping_database),
        "broker": _probe("broker", web_services.broker_check),
    }
    status = 200 if all(value == OK for value in report.values()) else 503
    return jsonify(report), status


def _ping_database() -> None:
    with services().session_factory() as session:
        session.execute(text("SELECT 1"))


def _probe(name: str, check: Callable[[], None]) -> str:
    try:
        check()
    except Exception as error:  # any failure means "down"; the reason goes to the log
        log.warning("health=%s state=down error=%r", name, error)
        return DOWN
    return OK
