"""Helpers of the login session's tests: a sign-in through the form from an address, the audit
log's sign-in rows, a clock moved forward for the cookie's signature, and a session made older."""

import re
import time
from datetime import timedelta

from flask.testing import FlaskClient
from sqlalchemy import select

from shared.core.db import SessionFactory
from shared.models import AuditEntry
from tests.support.web import csrf_token
from web.security import SIGNED_IN_AT


def audit_rows(factory: SessionFactory) -> list[tuple[str | None, str, str | None]]:
    with factory() as session:
        rows = session.execute(
            select(AuditEntry.username, AuditEntry.action, AuditEntry.remote_addr)
            .where(AuditEntry.action != "user.create")
            .order_by(AuditEntry.id)
        )
        return [tuple(row) for row in rows]


def login_form(client: FlaskClient, username: str, password: str, address: str) -> tuple[int, str]:
    """Signs in from `address`; the status and the page's error, if any."""
    token = csrf_token(client.get("/login").text)
    response = client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": token},
        environ_overrides={"REMOTE_ADDR": address},
    )
    error = re.search(r'id="login-error">([^<]*)<', response.text)
    return response.status_code, error.group(1) if error else ""


class Clock:
    """The clock the session cookie's signature is made and checked with, moved forward."""

    def __init__(self) -> None:
        self.ahead = timedelta()

    def time(self) -> float:
        return time.time() + self.ahead.total_seconds()


def age_session(client: FlaskClient, hours: float) -> None:
    """As if the user had signed in `hours` ago."""
    with client.session_transaction() as session:
        session[SIGNED_IN_AT] = int(time.time() - hours * 3600)
