"""GET /api/v1/health: whether the database and the broker answer (no sign-in needed)."""

import logging
from collections.abc import Callable

from flask import Response
from sqlalchemy import text

from web.api.bodies import Health, State
from web.api.routes import JSON, api
from web.services import services

log = logging.getLogger(__name__)


@api.get(
    "/health",
    summary="Whether the database and the broker answer",
    response=Health,
    other={503: Health},
    public=True,
)
def health() -> Response:
    report = Health(
        database=_probe("database", _ping_database),
        broker=_probe("broker", services().broker_check),
    )
    status = 200 if report.database == report.broker == "ok" else 503
    return Response(report.to_json(), status=status, mimetype=JSON)


def _ping_database() -> None:
    with services().session_factory() as session:
        session.execute(text("SELECT 1"))


def _probe(name: str, check: Callable[[], None]) -> State:
    try:
        check()
    except Exception as error:  # any failure means "down"; the reason goes to the log
        log.warning("health=%s state=down error=%r", name, error)
        return "down"
    return "ok"
