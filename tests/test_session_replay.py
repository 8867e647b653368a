"""A login session is the server's, not only the cookie's (web/security.py): a copy of the
cookie taken before sign-out, before a password change or before a role change is worth
nothing after it (or only the new role), and the CSRF token changes at sign-in."""

import pytest
from flask import Flask
from flask.testing import FlaskClient

from shared.core.db import SessionFactory
from tests.support.web import (
    PASSWORD,
    YEAR_BATCH,
    add_district,
    add_user,
    batch_count,
    csrf_token,
    log_in,
)


@pytest.fixture
def app(session_factory: SessionFactory, app: Flask) -> Flask:
    add_user(session_factory, "admin", "district_admin")
    add_user(session_factory, "ada", "district_admin")
    add_district(session_factory)
    return app


def copy_of(client: FlaskClient, app: Flask) -> FlaskClient:
    """Another browser holding a copy of `client`'s session cookie, as a thief would."""
    cookie = client.get_cookie("session")
    assert cookie is not None
    thief = app.test_client()
    thief.set_cookie("session", cookie.value)
    return thief


def submit(client: FlaskClient, token: str) -> int:
    return client.post(
        "/api/v1/batches", json=YEAR_BATCH, headers={"X-CSRFToken": token}
    ).status_code


def test_a_cookie_copied_before_sign_out_is_refused_after(app: Flask, session_factory):
    client = app.test_client()
    token = log_in(client, "ada")
    thief = copy_of(client, app)
    assert thief.get("/batches/new").status_code == 200  # the copy works while the session does
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    page = thief.get("/batches/new")
    assert (page.status_code, page.headers["Location"]) == (302, "/login?next=%2Fbatches%2Fnew")
    assert submit(thief, token) == 401
    assert batch_count(session_factory) == 0


def signed_in(app: Flask, username: str) -> tuple[FlaskClient, str, FlaskClient]:
    """A browser signed in as `username`, its CSRF token, and a thief's copy of its cookie."""
    client = app.test_client()
    token = log_in(client, username)
    return client, token, copy_of(client, app)


def test_a_password_change_ends_the_users_other_sessions(app: Flask, session_factory):
    ada, ada_token, stolen = signed_in(app, "ada")
    admin, admin_token, _ = signed_in(app, "admin")
    elsewhere, elsewhere_token, _ = signed_in(app, "admin")  # the admin's other browser
    changed = admin.post(
        "/users/ada/password", data={"csrf_token": admin_token, "password": "a new long password"}
    )
    assert changed.status_code == 302
    for client in (ada, stolen):
        assert client.get("/batches/new").status_code == 302
        assert submit(client, ada_token) == 401
    assert batch_count(session_factory) == 0
    # Changing their own password, the admin stays signed in here, and nowhere else.
    own = admin.post(
        "/users/admin/password", data={"csrf_token": admin_token, "password": "admin's new one!"}
    )
    assert own.status_code == 302
    assert admin.get("/batches/new").status_code == 200
    assert submit(elsewhere, elsewhere_token) == 401
    assert submit(admin, admin_token) == 202


def test_a_role_change_applies_at_the_next_request(app: Flask, session_factory):
    ada, ada_token, stolen = signed_in(app, "ada")
    admin, admin_token, _ = signed_in(app, "admin")
    demoted = admin.post("/users/ada", data={"csrf_token": admin_token, "role": "viewer"})
    assert demoted.status_code == 302
    for client in (ada, stolen):
        assert submit(client, ada_token) == 403
        assert client.get("/batches").status_code == 200  # a viewer reads
    assert batch_count(session_factory) == 0


def test_the_csrf_token_changes_at_sign_in(app: Flask, session_factory):
    client = app.test_client()
    before = csrf_token(client.get("/login").text)
    client.post("/login", data={"username": "ada", "password": PASSWORD, "csrf_token": before})
    after = csrf_token(client.get("/batches/new").text)
    assert after != before
    # a token planted before sign-in (session fixation of the CSRF token) is refused after it
    assert submit(client, before) == 400
    assert submit(client, after) == 202
