"""The user page in a real browser (headless Chromium): create an API token, see it once, then
revoke it, after which the API refuses it."""

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from shared.access.tokens import token_user
from shared.core.db import SessionFactory
from shared.models import ApiToken
from tests.support.browser import browser_page, serving, sign_in
from tests.support.web import PASSWORD, add_user, bearer

pytestmark = pytest.mark.browser


@pytest.fixture
def session_factory(sqlite_session_factory: SessionFactory) -> SessionFactory:
    return sqlite_session_factory


@pytest.fixture
def app(session_factory: SessionFactory, app: Flask) -> Flask:
    add_user(session_factory, "admin", "district_admin")
    add_user(session_factory, "vera", "viewer")
    return app


@pytest.fixture
def page(app: Flask) -> Iterator[Any]:
    with serving(app) as url, browser_page(url) as opened:
        yield opened


def test_create_a_token_see_it_once_and_revoke_it(
    page: Any, app: Flask, sqlite_session_factory: SessionFactory
):
    page.goto("/users")
    sign_in(page, "admin", PASSWORD)
    page.wait_for_url("**/users")
    assert page.locator("#users tbody tr").all_inner_texts() == [
        "admin\tDistrict admin\tAll schools\t0",
        "vera\tViewer\tAll schools\t0",
    ]

    page.get_by_role("link", name="vera").click()
    page.wait_for_url("**/users/vera")
    assert page.get_by_text("vera has no API tokens.").is_visible()
    page.get_by_label("Token name").fill("reports")
    page.get_by_role("button", name="Create a token").click()
    page.wait_for_url("**/users/vera/tokens")

    token = page.locator("#new-token").inner_text()
    assert len(token) == 43
    assert page.get_by_text("Copy it now: it will not be shown again.").is_visible()
    with sqlite_session_factory() as session:
        found = token_user(session, token)
        assert found is not None and found[0].username == "vera"
    api = app.test_client()
    assert api.get("/api/v1/batches", headers=bearer(token)).status_code == 200

    page.goto("/users/vera")
    assert page.locator("#new-token").count() == 0
    assert token not in page.content()
    row = page.locator("#tokens tbody tr")
    assert row.locator("th, td").nth(1).inner_text() == "reports"
    assert row.locator("td").nth(3).inner_text() == "no"

    page.get_by_role("button", name="Revoke token 1").click()
    page.wait_for_url("**/users/vera")
    assert page.get_by_role("status").inner_text() == "Token 1 is revoked."
    assert page.get_by_role("button", name="Revoke token 1").count() == 0
    with sqlite_session_factory() as session:
        assert token_user(session, token) is None
        revoked_at = session.scalar(select(ApiToken.revoked_at))
    assert revoked_at is not None  # naive UTC from SQLite; the app shows UTC
    assert row.locator("td").nth(3).inner_text() == revoked_at.strftime("%Y-%m-%d %H:%M:%S UTC")
    assert api.get("/api/v1/batches", headers=bearer(token)).status_code == 401
