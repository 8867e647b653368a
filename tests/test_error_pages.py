"""The product's own error pages: a page not found, a thing not found, an unexpected error
(whose detail never reaches the page), and the plain page when even that cannot be drawn."""

import re
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from shared.core.db import SessionFactory
from tests.support.web import add_user, app_with_a_failing_route, log_in


def words(html: str) -> tuple[str, str]:
    """The page's heading and its message, as text."""
    heading = re.search(r"<h1>(.*?)</h1>", html, re.S)
    message = re.search(r'<p role="alert" id="error-message">(.*?)</p>', html, re.S)
    assert heading is not None and message is not None, html
    return heading.group(1), " ".join(message.group(1).split())


def test_not_found_pages(sqlite_session_factory: SessionFactory, client: FlaskClient):
    add_user(sqlite_session_factory)
    log_in(client)
    nowhere = client.get("/nowhere")
    assert nowhere.status_code == 404
    assert words(nowhere.get_data(as_text=True)) == (
        "Page not found",
        "There is nothing at this address. It may have been removed, or the link may be mistyped.",
    )
    batch = client.get("/batches/42")
    assert batch.status_code == 404
    assert words(batch.get_data(as_text=True)) == (
        "Page not found",
        "No batch 42. It may have been removed, or the link may be mistyped.",
    )


@pytest.fixture
def session_factory(sqlite_session_factory: SessionFactory) -> SessionFactory:
    return sqlite_session_factory


def test_an_unexpected_error_has_its_own_page(
    sqlite_session_factory: SessionFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    app = app_with_a_failing_route(sqlite_session_factory, tmp_path, "/boom", monkeypatch)
    response = app.test_client().get("/boom")
    assert response.status_code == 500
    html = response.get_data(as_text=True)
    heading, message = words(html)
    assert heading == "Something went wrong on our side"
    assert message.startswith("The product could not finish this request. Nothing you did")
    assert re.search(r"\(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\)\.$", message)
    assert "secret detail" not in html


def test_an_error_page_that_cannot_be_drawn_is_plain(
    sqlite_session_factory: SessionFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    app = app_with_a_failing_route(sqlite_session_factory, tmp_path, "/boom", monkeypatch)

    def broken(*args: object, **kwargs: object) -> str:
        raise RuntimeError("the template could not be drawn")

    monkeypatch.setattr("web.errors.render_template", broken)
    response = app.test_client().get("/boom")
    assert response.status_code == 500
    assert "<h1>Something went wrong on our side</h1>" in response.get_data(as_text=True)
