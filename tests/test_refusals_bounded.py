"""Anonymous refusals do not grow the audit log without bound (shared/access/audit.py): unknown
bearer tokens from one address are counted in one entry per quarter of an hour, each still
answered 401. Throttled sign-ins are counted the same way (tests/test_signin_limits.py)."""

from flask import Flask
from sqlalchemy import func, select

from shared.core.db import SessionFactory
from shared.models import AuditEntry
from tests.support.web import add_token, add_user, bearer, error_of, log_in

FLOODER = "198.51.100.66"


def test_a_thousand_junk_tokens_make_one_counted_audit_entry(
    session_factory: SessionFactory, app: Flask
):
    add_user(session_factory, "ada", "viewer")
    good = add_token(session_factory, "ada")
    with session_factory() as session:
        before = session.scalar(select(func.count()).select_from(AuditEntry))
    client = app.test_client()
    statuses = []
    for n in range(1000):
        response = client.get(
            "/api/v1/batches",
            headers=bearer(f"junk-{n:04d}-{'x' * 30}"),
            environ_overrides={"REMOTE_ADDR": FLOODER},
        )
        statuses.append(response.status_code)
    assert statuses == [401] * 1000
    assert error_of(response) == {
        "code": "unauthorized",
        "message": "unknown or revoked token",
        "field": None,
    }

    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(AuditEntry)) == before + 1
        entry = session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert entry is not None
    assert (entry.action, entry.username, entry.remote_addr, entry.times) == (
        "token.refused",
        None,
        FLOODER,
        1000,
    )
    assert entry.detail == {"request": "GET /api/v1/batches", "reason": "unknown token"}

    # A good token from the flooded address works; another address's refusal is an entry.
    ok = client.get(
        "/api/v1/batches", headers=bearer(good), environ_overrides={"REMOTE_ADDR": FLOODER}
    )
    assert ok.status_code == 200
    other = client.get(
        "/api/v1/batches", headers=bearer("junk"), environ_overrides={"REMOTE_ADDR": "192.0.2.8"}
    )
    assert other.status_code == 401


def test_the_audit_api_and_page_show_how_many_times(session_factory: SessionFactory, app: Flask):
    add_user(session_factory, "admin", "district_admin")
    token = add_token(session_factory, "admin")
    client = app.test_client()
    for _ in range(3):
        client.get(
            "/api/v1/batches", headers=bearer("junk"), environ_overrides={"REMOTE_ADDR": FLOODER}
        )
    items = client.get("/api/v1/audit", headers=bearer(token)).get_json()["items"]
    refused = [item for item in items if item["action"] == "token.refused"]
    assert [(item["remoteAddr"], item["times"]) for item in refused] == [(FLOODER, 3)]
    log_in(client)
    page = client.get("/audit?action=token.refused").text
    assert "API token refused (3 times in 15 minutes)" in page
