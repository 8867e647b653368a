"""After sign-in, `next` takes the user only to a path of this site. Browsers strip tabs and line
breaks from a URL, trim leading spaces and controls, read a backslash as a slash and accept
full-width and other look-alike characters; any `next` that is not a plain same-site path is
dropped (the sign-in then goes to the start page), and none of them answers 500."""

import pytest
from flask.testing import FlaskClient

from shared.core.db import SessionFactory
from tests.support.web import PASSWORD, add_user, audit_rows, csrf_token

STRIPPED = ["\t", "\n", "\r", "\x00", "\x0b", "\x0c", "\x1f", "\x7f"]
ELSEWHERE = [
    "//evil.example/",
    "///evil.example/",
    "/\\evil.example/",
    "\\/evil.example/",
    "\\\\evil.example/",
    " //evil.example/",
    "https://evil.example/",
    "http:evil.example",
    "https:/evil.example",
    "javascript:alert(1)",
    "evil.example",
    "/\u3000/evil.example",  # an ideographic space
    "/\uff0fevil.example",  # a full-width solidus
    "/\u2215evil.example",  # a division slash
    "/\u200b/evil.example",  # a zero-width space
    "/batches\r\nSet-Cookie: x=1",
    *(f"/{character}/evil.example" for character in STRIPPED),
    *(f"{character}//evil.example" for character in STRIPPED),
]
SAME_SITE = ["/batches", "/batches?status=running", "/people/P%2F1", "/reach?asOf=2025-10-15"]


@pytest.fixture
def client(sqlite_session_factory: SessionFactory, client: FlaskClient) -> FlaskClient:
    add_user(sqlite_session_factory)
    return client


@pytest.fixture
def session_factory(sqlite_session_factory: SessionFactory) -> SessionFactory:
    return sqlite_session_factory


def signed_in_to(client: FlaskClient, target: str) -> tuple[int, str]:
    token = csrf_token(client.get("/login").get_data(as_text=True))
    data = {"username": "admin", "password": PASSWORD, "csrf_token": token, "next": target}
    response = client.post("/login", data=data)
    return response.status_code, response.headers.get("Location", "")


@pytest.mark.parametrize("target", ELSEWHERE, ids=repr)
def test_a_next_that_is_not_a_same_site_path_is_dropped(client: FlaskClient, target: str):
    assert signed_in_to(client, target) == (302, "/")
    # signed in already, the sign-in page sends them on the same way
    again = client.get("/login", query_string={"next": target})
    assert (again.status_code, again.headers["Location"]) == (302, "/batches")


@pytest.mark.parametrize("target", SAME_SITE)
def test_a_same_site_path_is_followed(client: FlaskClient, target: str):
    assert signed_in_to(client, target) == (302, target)


def test_a_viewer_s_sign_in_lands_on_a_page_they_may_see(
    client: FlaskClient, sqlite_session_factory: SessionFactory
):
    add_user(sqlite_session_factory, "vera", "viewer")
    token = csrf_token(client.get("/login").get_data(as_text=True))
    data = {"username": "vera", "password": PASSWORD, "csrf_token": token}
    landed = client.post("/login", data=data, follow_redirects=True)
    assert (landed.status_code, landed.request.path) == (200, "/batches")
    actions = [row[1] for row in audit_rows(sqlite_session_factory)]
    assert "access.denied" not in actions and actions.count("login") == 1
