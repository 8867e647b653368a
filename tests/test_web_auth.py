"""Signing in and out, CSRF on forms and on session-authenticated API calls, bearer tokens,
and the viewer's read-only role."""

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from shared.core.db import SessionFactory
from shared.models import AuditEntry
from tests.support.web import (
    PASSWORD,
    YEAR_BATCH,
    EnqueueRecorder,
    add_district,
    add_token,
    add_user,
    batch_count,
    bearer,
    csrf_token,
    error_of,
    log_in,
)


@pytest.fixture
def session_factory(sqlite_session_factory: SessionFactory) -> SessionFactory:
    return sqlite_session_factory


@pytest.fixture
def app(session_factory: SessionFactory, app: Flask) -> Flask:
    add_user(session_factory, "admin", "district_admin")
    add_user(session_factory, "vera", "viewer")
    add_district(session_factory)
    return app


def audit_actions(factory: SessionFactory) -> list[tuple[str | None, str]]:
    with factory() as session:
        rows = session.execute(
            select(AuditEntry.username, AuditEntry.action)
            .where(AuditEntry.action.like("login%"))
            .order_by(AuditEntry.id)
        )
        return [(username, action) for username, action in rows]


def test_pages_need_a_login(client: FlaskClient):
    response = client.get("/batches/new")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=%2Fbatches%2Fnew"


def test_login_with_the_right_password(client: FlaskClient, sqlite_session_factory):
    token = csrf_token(client.get("/login").get_data(as_text=True))
    response = client.post(
        "/login?next=%2Fbatches",
        data={"username": "admin", "password": PASSWORD, "csrf_token": token},
    )
    assert (response.status_code, response.headers["Location"]) == (302, "/batches")
    page = client.get("/batches/new")
    assert page.status_code == 200
    assert "admin (district_admin)" in page.get_data(as_text=True)
    assert audit_actions(sqlite_session_factory) == [("admin", "login")]


def test_login_ignores_a_next_address_on_another_site(client: FlaskClient):
    token = csrf_token(client.get("/login").get_data(as_text=True))
    response = client.post(
        "/login",
        data={
            "username": "admin",
            "password": PASSWORD,
            "csrf_token": token,
            "next": "//evil.example/",
        },
    )
    assert (response.status_code, response.headers["Location"]) == (302, "/")


def test_login_with_a_wrong_password(client: FlaskClient, sqlite_session_factory):
    token = csrf_token(client.get("/login").get_data(as_text=True))
    response = client.post(
        "/login", data={"username": "admin", "password": "wrong password", "csrf_token": token}
    )
    assert response.status_code == 401
    assert "Wrong username or password." in response.get_data(as_text=True)
    assert client.get("/batches/new").status_code == 302
    assert audit_actions(sqlite_session_factory) == [("admin", "login.failed")]


def test_repeated_failed_logins_are_throttled(client: FlaskClient, sqlite_session_factory):
    token = csrf_token(client.get("/login").get_data(as_text=True))
    statuses = [
        client.post(
            "/login", data={"username": "admin", "password": password, "csrf_token": token}
        ).status_code
        for password in ["wrong 1", "wrong 2", "wrong 3", "wrong 4", "wrong 5", PASSWORD]
    ]
    assert statuses == [401, 401, 401, 401, 401, 429]
    assert client.get("/batches/new").status_code == 302
    assert [action for _, action in audit_actions(sqlite_session_factory)] == [
        "login.failed"
    ] * 5 + ["login.throttled"]


def test_logout(client: FlaskClient):
    token = log_in(client)
    response = client.post("/logout", data={"csrf_token": token})
    assert (response.status_code, response.headers["Location"]) == (302, "/login")
    assert client.get("/batches/new").status_code == 302
    assert client.get("/api/v1/batches").status_code == 401


def test_logout_is_not_a_get(client: FlaskClient):
    log_in(client)
    assert client.get("/logout").status_code == 405
    assert client.get("/batches/new").status_code == 200


def test_a_form_post_without_csrf_token_is_refused(client: FlaskClient, sqlite_session_factory):
    response = client.post("/login", data={"username": "admin", "password": PASSWORD})
    assert response.status_code == 400
    assert "The CSRF token is missing." in response.get_data(as_text=True)
    assert client.get("/batches/new").status_code == 302
    assert audit_actions(sqlite_session_factory) == []

    log_in(client)
    form = {"mode": "student", "schoolYear": "2025-26", "action": "apply"}
    assert client.post("/batches/new", data=form).status_code == 400
    wrong = client.post("/batches/new", data={**form, "csrf_token": "not-the-token"})
    assert wrong.status_code == 400
    assert batch_count(sqlite_session_factory) == 0


def test_session_api_posts_need_the_csrf_header(
    client: FlaskClient, sqlite_session_factory, enqueued: EnqueueRecorder
):
    token = log_in(client)
    refused = client.post("/api/v1/batches", json=YEAR_BATCH)
    assert refused.status_code == 400
    assert error_of(refused) == {
        "code": "csrf_failed",
        "message": "The CSRF token is missing.",
        "field": None,
    }
    assert batch_count(sqlite_session_factory) == 0

    accepted = client.post("/api/v1/batches", json=YEAR_BATCH, headers={"X-CSRFToken": token})
    assert accepted.status_code == 202
    assert accepted.get_json() == {"id": 1, "status": "queued", "url": "/api/v1/batches/1"}
    assert enqueued.calls == [("batches.plan", (1,))]
    # Reading needs no CSRF token.
    assert client.get("/api/v1/batches/1").status_code == 200


def test_bearer_token_requests_need_no_csrf(
    client: FlaskClient, sqlite_session_factory, enqueued: EnqueueRecorder
):
    token = add_token(sqlite_session_factory, "admin")
    listed = client.get("/api/v1/batches", headers=bearer(token))
    assert (listed.status_code, listed.get_json()) == (
        200,
        {"items": [], "page": 1, "perPage": 50, "total": 0},
    )
    accepted = client.post("/api/v1/batches", json=YEAR_BATCH, headers=bearer(token))
    assert (accepted.status_code, accepted.get_json()["id"]) == (202, 1)
    assert enqueued.calls == [("batches.plan", (1,))]


def test_api_without_credentials_is_401(client: FlaskClient):
    for method, path in [
        ("GET", "/api/v1/batches"),
        ("POST", "/api/v1/batches"),
        ("GET", "/api/v1/batches/1"),
        ("GET", "/api/v1/filters"),
        ("GET", "/api/v1/preferences.csv"),
        ("GET", "/api/v1/people/P-1/preferences"),
        ("GET", "/api/v1/openapi.json"),
    ]:
        response = client.open(path, method=method)
        assert response.status_code == 401, path
        assert response.headers["WWW-Authenticate"] == 'Bearer realm="cpb"'
        assert error_of(response) == {
            "code": "unauthorized",
            "message": "sign in, or send Authorization: Bearer <token>",
            "field": None,
        }


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("Bearer not-a-token", "unknown or revoked token"),
        ("Bearer ", "the Authorization header must be: Bearer <token>"),
        ("Basic YWRtaW46cGFzcw==", "the Authorization header must be: Bearer <token>"),
    ],
)
def test_a_bad_authorization_header_is_401_even_when_signed_in(
    client: FlaskClient, header: str, message: str
):
    log_in(client)
    response = client.get("/api/v1/batches", headers={"Authorization": header})
    assert response.status_code == 401
    assert error_of(response) == {"code": "unauthorized", "message": message, "field": None}


def test_a_viewer_may_only_read(client: FlaskClient, sqlite_session_factory, enqueued):
    token = add_token(sqlite_session_factory, "vera")
    assert client.get("/api/v1/batches", headers=bearer(token)).status_code == 200
    assert client.get("/api/v1/filters", headers=bearer(token)).status_code == 200
    for path, body in [
        ("/api/v1/batches", YEAR_BATCH),
        ("/api/v1/filters", {"name": "x", "kind": "census", "criteria": {"staff": True}}),
    ]:
        response = client.post(path, json=body, headers=bearer(token))
        assert response.status_code == 403
        assert error_of(response) == {
            "code": "forbidden",
            "message": "only a district admin or a school admin may do this; you are a viewer",
            "field": None,
        }
    assert batch_count(sqlite_session_factory) == 0
    assert enqueued.calls == []

    csrf = log_in(client, "vera")
    page = client.get("/batches/new")
    assert page.status_code == 403
    assert "only a district admin or a school admin may do this; you are a viewer" in page.get_data(
        as_text=True
    )
    form = {"mode": "student", "schoolYear": "2025-26", "action": "apply", "csrf_token": csrf}
    assert client.post("/batches/new", data=form).status_code == 403
    assert batch_count(sqlite_session_factory) == 0
    home = client.get("/")
    assert (home.status_code, home.headers["Location"]) == (302, "/batches")
    assert "New batch" not in client.get("/batches").get_data(as_text=True)
