"""What the tests of the users pages share: their users, schools and tokens (the `factory`,
`app` and `admin` fixtures), and helpers that read the users, the audit log and a form's error."""

import re
from datetime import UTC, datetime
from html import unescape
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update
from werkzeug.test import TestResponse

from shared.access.tokens import create_token, revoke_token
from shared.access.users import create_user, list_users
from shared.core.db import SessionFactory
from shared.models import ApiToken, AuditEntry, School
from tests.support.web import PASSWORD, log_in

CREATED = datetime(2025, 10, 15, 8, 1, tzinfo=UTC)
REVOKED = datetime(2025, 10, 16, 9, 30, tzinfo=UTC)


@pytest.fixture
def factory(session_factory: SessionFactory) -> SessionFactory:
    """Schools S-1 (North) and S-2 (South); admin, sam (school admin of S-2), vera (viewer);
    sam has a token, vera a revoked one."""
    with session_factory.begin() as session:
        session.add_all([School(ext_id="S-1", name="North"), School(ext_id="S-2", name="South")])
    with session_factory.begin() as session:
        create_user(session, "admin", "district_admin", PASSWORD, [])
        create_user(session, "sam", "school_admin", PASSWORD, ["S-2"])
        create_user(session, "vera", "viewer", PASSWORD, [])
    with session_factory.begin() as session:
        create_token(session, "sam", name="sync")
        create_token(session, "vera")
        session.execute(update(ApiToken).values(created_at=CREATED))
    with session_factory.begin() as session:
        revoke_token(session, 2, now=REVOKED)
    return session_factory


@pytest.fixture
def app(factory: SessionFactory, app: Flask) -> Flask:
    """The shared app, after `factory`'s data."""
    return app


@pytest.fixture
def admin(app: Flask) -> tuple[FlaskClient, str]:
    """A client signed in as admin, and its CSRF token."""
    client = app.test_client()
    return client, log_in(client)


def html(response: TestResponse) -> str:
    return response.get_data(as_text=True)


def users(factory: SessionFactory) -> list[tuple[str, str, tuple[str, ...], bool]]:
    with factory() as session:
        return [
            (view.username, view.role, view.school_ids, view.has_password)
            for view in list_users(session)
        ]


def audit_rows(factory: SessionFactory, first_id: int) -> list[tuple[Any, ...]]:
    with factory() as session:
        rows = session.execute(
            select(AuditEntry.username, AuditEntry.action, AuditEntry.subject, AuditEntry.detail)
            .where(AuditEntry.id >= first_id)
            .order_by(AuditEntry.id)
        )  # fmt: skip
        return [tuple(row) for row in rows]


def next_audit_id(factory: SessionFactory) -> int:
    with factory() as session:
        return (session.scalar(select(AuditEntry.id).order_by(AuditEntry.id.desc())) or 0) + 1


def error_text(page: str, error_id: str) -> str:
    match = re.search(
        rf'<div class="error-summary" role="alert" id="{error_id}">(.*?)</div>', page, re.S
    )
    assert match is not None, f"no {error_id} on the page"
    return " ".join(unescape(re.sub(r"<[^>]+>", "", match.group(1))).split())


BEFORE = [
    ("admin", "district_admin", (), True),
    ("sam", "school_admin", ("S-2",), True),
    ("vera", "viewer", (), True),
]
