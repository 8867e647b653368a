"""The users list, for district admins: every user and the form, creating a user (with a password
or for tokens only), and a refused user shown next to the form, which writes nothing."""

import pytest
from flask.testing import FlaskClient

from shared.access.signin import authenticate
from shared.core.db import SessionFactory
from tests.support.users_pages import BEFORE, audit_rows, error_text, html, next_audit_id, users
from tests.support.users_pages import admin as admin  # the fixtures, for pytest to find here
from tests.support.users_pages import app as app
from tests.support.users_pages import factory as factory
from tests.support.web import Page

USERS_HEAD = ["Username", "Role", "Schools", "Active API tokens"]


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
