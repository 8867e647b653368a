"""The audit log of the audit page's tests (the `setup` fixture: eleven entries, one a minute from
08:01 UTC, the tokens of three users and admin signed in) and the stamping of entries with known
times."""

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from shared.access.audit import record_audit
from shared.core.db import SessionFactory
from shared.models import ApiToken, AuditEntry, School
from shared.models.base import utcnow
from tests.support.web import add_token, add_user, bearer, log_in, make_app

START = datetime(2025, 10, 15, 8, 0, tzinfo=UTC)


class Setup:
    def __init__(
        self, app: Flask, factory: SessionFactory, tokens: dict[str, str], admin: FlaskClient
    ) -> None:
        self.app = app
        self.factory = factory
        self.tokens = tokens
        self.admin = admin  # signed in once, as entry 7: showing pages adds no entries

    def page(self, query: str = "") -> tuple[int, str]:
        response = self.admin.get(f"/audit{query}")
        return response.status_code, response.get_data(as_text=True)

    def api(self, query: str, username: str = "admin") -> Any:
        client = self.app.test_client()
        return client.get(f"/api/v1/audit{query}", headers=bearer(self.tokens[username]))


@pytest.fixture
def setup(session_factory: SessionFactory, tmp_path: Path) -> Setup:
    """Eleven entries, one a minute from 08:01 UTC: three users, their tokens, admin's sign-in,
    then a batch, a failed sign-in, an action the page does not know and an import."""
    with session_factory.begin() as session:
        session.add(School(ext_id="S-1", name="North"))
    for username, role, schools in (
        ("admin", "district_admin", []),
        ("sam", "school_admin", ["S-1"]),
        ("vera", "viewer", []),
    ):
        add_user(session_factory, username, role, schools=schools)
    tokens = {name: add_token(session_factory, name) for name in ("admin", "sam", "vera")}
    with session_factory.begin() as session:
        # used a moment ago, so reading the log through the API adds no `token.use` entry
        session.execute(update(ApiToken).values(last_used_at=utcnow()))
    app = make_app(session_factory, tmp_path)
    admin = app.test_client()
    log_in(admin)
    with session_factory.begin() as session:
        record_audit(
            session,
            username="admin",
            action="batch.submit",
            subject="batch:12",
            detail={"mode": "student", "dryRun": False},
        )
        record_audit(session, username="mallory", action="login.failed", subject="mallory")
        record_audit(
            session,
            username="admin",
            action="some.unknown",
            subject="<script>alert(1)</script>",
            detail={"note": "<b>hi</b>"},
        )
        record_audit(
            session,
            username=None,
            action="import.csv",
            subject="/data/bundle",
            detail={"people": 3, "new": {"households": 1}},
        )
    stamp(session_factory)
    return Setup(app, session_factory, tokens, admin)


def stamp(factory: SessionFactory) -> None:
    """Entry n happened at 08:00 + n minutes, so the times shown are known."""
    with factory.begin() as session:
        for entry in session.scalars(select(AuditEntry)):
            entry.at = START + timedelta(minutes=entry.id)
