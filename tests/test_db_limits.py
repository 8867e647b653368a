"""Keepalives and time limits per kind of work, on PostgreSQL (shared/core/db.py LIMITS): each
role's connections carry them, a streamed read gets its longer limit, and an API request that
waits too long for a lock is answered 503, busy, and changes nothing."""

from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from shared.core import db
from shared.core.db import make_engine, make_session_factory, read_session
from tests.support.web import (
    EnqueueRecorder,
    add_district,
    add_token,
    add_user,
    bearer,
    make_app,
)
from tests.support.web_api import STUDENT_BATCH, Api

pytestmark = pytest.mark.postgres

SHOWN = (
    "statement_timeout",
    "lock_timeout",
    "idle_in_transaction_session_timeout",
    "tcp_keepalives_idle",
    "tcp_keepalives_interval",
    "tcp_keepalives_count",
    "client_connection_check_interval",
)
KEEPALIVES = ["30", "10", "3", "10s"]


@pytest.mark.parametrize(
    ("role", "limits", "read"),
    [
        ("cpb-web", ["1min", "30s", "15min"], "15min"),
        ("cpb-worker", ["30min", "5min", "15min"], "30min"),
        ("cpb", ["2h", "10min", "15min"], "2h"),
        ("cpb-beat", ["10s", "5s", "1min"], "10s"),
    ],
)
def test_each_role_connects_with_its_limits(pg_url: str, role: str, limits: list, read: str):
    engine = make_engine(pg_url, role=role)
    try:
        factory = make_session_factory(engine)
        with factory() as session:
            shown = [session.execute(text(f"SHOW {name}")).scalar() for name in SHOWN]
        with read_session(factory) as session:
            read_limit = session.execute(text("SHOW statement_timeout")).scalar()
        with engine.connect() as connection:
            raw = connection.connection.dbapi_connection
            keepalives = raw.info.get_parameters()  # type: ignore[union-attr]
    finally:
        engine.dispose()
    assert (shown, read_limit) == (limits + KEEPALIVES, read)
    assert keepalives["keepalives_idle"] == "30"


def test_a_request_that_waits_too_long_for_a_lock_is_busy(
    pg_url: str, pg_engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """A cancel waits for the batch row that another transaction holds (the web's lock limit
    is made one second here)."""
    monkeypatch.setitem(db.LIMITS, "cpb-web", db.Limits("60s", "1s", "15min", "15min"))
    engine = make_engine(pg_url, role="cpb-web")
    try:
        factory = make_session_factory(engine)
        add_user(factory, "admin", "district_admin")
        add_district(factory)
        app = make_app(factory, tmp_path, EnqueueRecorder())
        app.config["PROPAGATE_EXCEPTIONS"] = False  # answered as in production
        api = Api(app.test_client(), "")
        api.headers = bearer(add_token(factory, "admin"))
        batch_id = api.post("/api/v1/batches", STUDENT_BATCH).get_json()["id"]
        with factory.begin() as holder:
            holder.execute(
                text("SELECT 1 FROM batches WHERE id = :id FOR UPDATE"), {"id": batch_id}
            )
            answer = api.post(f"/api/v1/batches/{batch_id}/cancel")
        after = api.get(f"/api/v1/batches/{batch_id}").get_json()
    finally:
        engine.dispose()
    assert (answer.status_code, answer.headers["Retry-After"], answer.get_json()) == (
        503,
        "30",
        {
            "error": {
                "code": "busy",
                "message": "the database is busy (a lock wait took too long): try again",
                "field": None,
            }
        },
    )
    assert after["status"] == "queued"
