"""The users pages (issue 6), for district admins: the list, creating a user, changing a role,
schools or password, and tokens: shown once, kept as a digest, revoked for good. Refusals are
shown next to their form and change nothing; other roles get 403, a post without CSRF 400."""

import hashlib
import re
from datetime import UTC, datetime
from html import unescape
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update
from werkzeug.test import TestResponse

from shared.access.signin import authenticate
from shared.access.tokens import create_token, revoke_token
from shared.access.users import create_user, list_users
from shared.core.db import SessionFactory
from shared.models import ApiToken, AuditEntry, School
from tests.support.web import PASSWORD, Page, bearer, log_in

CREATED = datetime(2025, 10, 15, 8, 1, tzinfo=UTC)
REVOKED = datetime(2025, 10, 16, 9, 30, tzinfo=UTC)
USERS_HEAD = ["Username", "Role", "Schools", "Active API tokens"]
TOKENS_HEAD = ["Id", "Name", "Created", "Last used", "Revoked", "Action"]


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


def checked(page: str) -> list[str]:
    """The values of the checked school boxes."""
    box = r'<input type="checkbox" id="school-[0-9]+" name="school" value="([^"]+)" checked>'
    return re.findall(box, page)


BEFORE = [
    ("admin", "district_admin", (), True),
    ("sam", "school_admin", ("S-2",), True),
    ("vera", "viewer", (), True),
]


# --- the list and creating a user -----------------------------------------------------------


def test_the_list_shows_every_user_and_the_form(admin: tuple[FlaskClient, str]):
    client, _ = admin
    response = client.get("/users")

    assert response.status_code == 200
    page = Page(html(response))
    assert page.tables["users"] == [
        USERS_HEAD,
        ["admin", "District admin", "All schools", "0"],
        ["sam", "School admin", "S-2", "1"],
        ["vera", "Viewer", "All schools", "0"],
    ]
    assert page.label_for == {
        "username": "Username",
        "role": "Role",
        "school-1": "North (S-1)",
        "school-2": "South (S-2)",
        "password": "Password",
    }
    assert page.options("role") == [
        ("district_admin", "District admin"),
        ("school_admin", "School admin"),
        ("viewer", "Viewer"),
    ]
    assert '<a href="/users" aria-current="page">Users</a>' in html(response)
    assert ' style="' not in html(response) and "<script" not in html(response)


def test_create_a_user(admin: tuple[FlaskClient, str], factory: SessionFactory):
    client, csrf = admin
    first = next_audit_id(factory)
    response = client.post(
        "/users",
        data={
            "csrf_token": csrf,
            "username": " nina ",
            "role": "school_admin",
            "school": ["S-2", "S-1"],
            "password": "nina's password",
        },
    )

    assert (response.status_code, response.location) == (302, "/users/nina")
    assert "Created user nina." in html(client.get("/users/nina"))
    assert users(factory) == [
        *BEFORE[:1],
        ("nina", "school_admin", ("S-1", "S-2"), True),
        *BEFORE[1:],
    ]
    assert audit_rows(factory, first) == [
        ("admin", "user.create", "nina", {"role": "school_admin", "schoolIds": ["S-1", "S-2"]})
    ]
    with factory.begin() as session:
        assert authenticate(session, "nina", "nina's password") is not None


def test_a_user_without_password_is_for_tokens_only(
    admin: tuple[FlaskClient, str], factory: SessionFactory
):
    client, csrf = admin
    data = {"csrf_token": csrf, "username": "robot", "role": "viewer", "password": ""}
    assert client.post("/users", data=data).status_code == 302
    assert ("robot", "viewer", (), False) in users(factory)
    assert "none: signs in with API tokens only" in html(client.get("/users/robot"))


@pytest.mark.parametrize(
    ("form", "status", "message"),
    [
        ({"username": "nina", "role": "school_admin"}, 400,
         "No user was created Schools: a school_admin needs at least one school"),
        ({"username": "nina", "role": "viewer", "school": "S-1"}, 400,
         "No user was created Schools: only a school_admin has schools, not a viewer"),
        ({"username": "nina", "role": "viewer", "password": "short"}, 400,
         "No user was created Password: must be 12 to 128 characters"),
        ({"username": "  ", "role": "viewer"}, 400,
         "No user was created Username: must be 1 to 100 characters"),
        ({"username": "nina", "role": "boss"}, 400,
         "No user was created Role: unknown role 'boss'; one of district_admin, school_admin, "
         "viewer"),
        ({"username": "sam", "role": "viewer"}, 409,
         "No user was created a user named 'sam' exists already"),
    ],
)  # fmt: skip
def test_a_refused_user_is_shown_next_to_the_form(
    admin: tuple[FlaskClient, str],
    factory: SessionFactory,
    form: dict[str, str],
    status: int,
    message: str,
):
    client, csrf = admin
    first = next_audit_id(factory)
    response = client.post("/users", data={"csrf_token": csrf, **form})

    assert response.status_code == status
    assert error_text(html(response), "create-error") == message
    page = Page(html(response))
    assert page.inputs["username"]["value"] == form["username"]
    assert page.selected("role") == (form["role"] if form["role"] != "boss" else None)
    assert users(factory) == BEFORE
    assert audit_rows(factory, first) == []


# --- one user ---------------------------------------------------------------------------------


def test_the_user_page(admin: tuple[FlaskClient, str]):
    client, _ = admin
    response = client.get("/users/sam")

    assert response.status_code == 200
    page = Page(html(response))
    assert page.tables["tokens"][0] == TOKENS_HEAD
    assert page.tables["tokens"][1:] == [
        ["1", "sync", "2025-10-15 08:01:00 UTC", "never", "no", "Revoke token 1"]
    ]
    assert page.selected("role") == "school_admin"
    assert page.label_for == {
        "role": "Role",
        "school-1": "North (S-1)",
        "school-2": "South (S-2)",
        "password": "New password",
        "token-name": "Token name",
    }
    assert checked(html(response)) == ["S-2"]
    assert (None, None, "Revoke token 1") in page.buttons
    assert client.get("/users/ghost").status_code == 404


def test_change_role_and_schools(admin: tuple[FlaskClient, str], factory: SessionFactory):
    client, csrf = admin
    first = next_audit_id(factory)
    response = client.post(
        "/users/vera", data={"csrf_token": csrf, "role": "school_admin", "school": ["S-1"]}
    )
    again = client.post(
        "/users/vera", data={"csrf_token": csrf, "role": "school_admin", "school": ["S-1"]}
    )

    assert (response.status_code, response.location) == (302, "/users/vera")
    assert "Nothing changed." in html(client.get(again.location))
    assert users(factory)[2] == ("vera", "school_admin", ("S-1",), True)
    assert audit_rows(factory, first) == [
        ("admin", "user.update", "vera", {"role": "school_admin", "schoolIds": ["S-1"]})
    ]


@pytest.mark.parametrize(
    ("username", "form", "status", "message"),
    [
        ("sam", {"role": "school_admin"}, 400,
         "Nothing was changed Schools: a school_admin needs at least one school"),
        ("sam", {"role": "viewer", "school": "S-2"}, 400,
         "Nothing was changed Schools: only a school_admin has schools, not a viewer"),
        ("admin", {"role": "viewer"}, 409,
         "Nothing was changed 'admin' is the last district_admin; make another user "
         "district_admin first"),
    ],
)  # fmt: skip
def test_a_refused_change_is_shown_next_to_the_form(
    admin: tuple[FlaskClient, str],
    factory: SessionFactory,
    username: str,
    form: dict[str, str],
    status: int,
    message: str,
):
    client, csrf = admin
    first = next_audit_id(factory)
    response = client.post(f"/users/{username}", data={"csrf_token": csrf, **form})

    assert response.status_code == status
    assert error_text(html(response), "update-error") == message
    assert Page(html(response)).selected("role") == form["role"]  # as chosen, to correct it
    assert users(factory) == BEFORE
    assert audit_rows(factory, first) == []


def test_set_a_password(admin: tuple[FlaskClient, str], factory: SessionFactory):
    client, csrf = admin
    first = next_audit_id(factory)
    short = client.post("/users/vera/password", data={"csrf_token": csrf, "password": "short"})
    assert short.status_code == 400
    assert error_text(html(short), "password-error") == (
        "The password was not changed Password: must be 12 to 128 characters"
    )

    response = client.post(
        "/users/vera/password", data={"csrf_token": csrf, "password": "vera's new password"}
    )

    assert (response.status_code, response.location) == (302, "/users/vera")
    assert "The password of vera is changed." in html(client.get("/users/vera"))
    with factory.begin() as session:
        assert authenticate(session, "vera", PASSWORD) is None
        assert authenticate(session, "vera", "vera's new password") is not None
    assert audit_rows(factory, first)[0] == (
        "admin",
        "user.update",
        "vera",
        {"password": "changed"},
    )


# --- tokens -----------------------------------------------------------------------------------


def test_a_new_token_is_shown_once_and_kept_as_a_digest(
    app: Flask, admin: tuple[FlaskClient, str], factory: SessionFactory
):
    client, csrf = admin
    first = next_audit_id(factory)
    response = client.post("/users/vera/tokens", data={"csrf_token": csrf, "name": "reports"})

    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    match = re.search(r'<code id="new-token">([^<]+)</code>', html(response))
    assert match is not None
    token = match.group(1)
    assert len(token) == 43
    assert "it will not be shown again" in html(response)
    with factory() as session:
        stored = session.execute(
            select(ApiToken.id, ApiToken.digest, ApiToken.name).order_by(ApiToken.id)
        ).all()
    assert stored[2:] == [(3, hashlib.sha256(token.encode()).hexdigest(), "reports")]
    shown_again = html(client.get("/users/vera"))
    assert token not in shown_again and 'id="new-token"' not in shown_again
    rows = Page(shown_again).tables["tokens"][1:]
    assert rows[0] == ["2", "", "2025-10-15 08:01:00 UTC", "never", "2025-10-16 09:30:00 UTC", ""]
    assert [row[:2] + row[3:] for row in rows[1:]] == [  # made just now
        ["3", "reports", "never", "no", "Revoke token 3"]
    ]

    api = app.test_client()
    assert api.get("/api/v1/batches", headers=bearer(token)).status_code == 200
    revoked = client.post("/users/vera/tokens/3/revoke", data={"csrf_token": csrf})
    assert (revoked.status_code, revoked.location) == (302, "/users/vera")
    assert "Token 3 is revoked." in html(client.get("/users/vera"))
    refused = api.get("/api/v1/batches", headers=bearer(token))
    assert refused.status_code == 401

    assert [row[:3] for row in audit_rows(factory, first)] == [
        ("admin", "token.create", "vera"),
        ("vera", "token.use", "vera"),
        ("admin", "token.revoke", "vera"),
        ("vera", "token.refused", "vera"),
    ]
    assert audit_rows(factory, first)[0][3] == {"tokenId": 3, "name": "reports"}
    assert audit_rows(factory, first)[2][3] == {"tokenId": 3}


def test_token_refusals(admin: tuple[FlaskClient, str], factory: SessionFactory):
    client, csrf = admin
    first = next_audit_id(factory)
    long_name = client.post("/users/vera/tokens", data={"csrf_token": csrf, "name": "x" * 101})
    twice = client.post("/users/vera/tokens/2/revoke", data={"csrf_token": csrf})
    not_hers = client.post("/users/vera/tokens/1/revoke", data={"csrf_token": csrf})
    nobody = client.post("/users/ghost/tokens", data={"csrf_token": csrf, "name": "x"})

    assert long_name.status_code == 400
    assert error_text(html(long_name), "token-error") == (
        "No token was created Token name: must be at most 100 characters"
    )
    assert Page(html(long_name)).inputs["name"]["value"] == "x" * 101
    assert twice.status_code == 409
    assert error_text(html(twice), "tokens-error") == (
        "Nothing was revoked token 2 was revoked already"
    )
    assert (not_hers.status_code, nobody.status_code) == (404, 404)
    assert "<code></code>: " not in html(not_hers)
    assert "&#39;vera&#39; has no token 1" in html(not_hers)
    assert audit_rows(factory, first) == []
    with factory() as session:
        assert session.execute(select(ApiToken.id, ApiToken.revoked_at.is_(None))).all() == [
            (1, True),
            (2, False),
        ]


# --- who may --------------------------------------------------------------------------------


@pytest.mark.parametrize("username", ["sam", "vera"])
def test_only_a_district_admin_may(app: Flask, factory: SessionFactory, username: str):
    client = app.test_client()
    csrf = log_in(client, username)
    first = next_audit_id(factory)
    role = {"sam": "a school admin", "vera": "a viewer"}[username]

    answers = [
        client.get("/users"),
        client.get(f"/users/{username}"),
        client.post("/users", data={"csrf_token": csrf, "username": "x", "role": "viewer"}),
        client.post("/users/admin", data={"csrf_token": csrf, "role": "viewer"}),
        client.post("/users/admin/password", data={"csrf_token": csrf, "password": "x" * 9}),
        client.post("/users/sam/tokens", data={"csrf_token": csrf}),
        client.post("/users/sam/tokens/1/revoke", data={"csrf_token": csrf}),
    ]

    assert [answer.status_code for answer in answers] == [403] * 7
    assert f"only a district admin may do this; you are {role}" in html(answers[0])
    assert 'href="/users"' not in html(client.get("/batches"))
    assert users(factory) == BEFORE
    with factory() as session:
        assert session.scalars(select(ApiToken.revoked_at.is_(None))).all() == [True, False]
    # 403s are audited by the access layer; nothing about users or tokens is.
    actions = [row[1] for row in audit_rows(factory, first)]
    assert [action for action in actions if action.startswith(("user.", "token."))] == []


def test_a_post_without_csrf_is_refused(admin: tuple[FlaskClient, str], factory: SessionFactory):
    client, _ = admin
    first = next_audit_id(factory)
    answers = [
        client.post("/users", data={"username": "nina", "role": "viewer"}),
        client.post("/users/vera", data={"role": "district_admin"}),
        client.post("/users/vera/password", data={"password": "x" * 12}),
        client.post("/users/vera/tokens", data={"name": "x"}),
        client.post("/users/sam/tokens/1/revoke"),
    ]

    assert [answer.status_code for answer in answers] == [400] * 5
    assert "The CSRF token is missing." in html(answers[0])
    assert users(factory) == BEFORE
    assert audit_rows(factory, first) == []
    with factory() as session:
        assert session.scalar(select(ApiToken.id).order_by(ApiToken.id.desc())) == 2
