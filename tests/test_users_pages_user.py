"""One user's page, for district admins: its tokens and form, changing the role and schools or
the password, and a refused change shown next to the form, which changes nothing."""

import re

import pytest
from flask.testing import FlaskClient

from shared.access.signin import authenticate
from shared.core.db import SessionFactory
from tests.support.users_pages import BEFORE, audit_rows, error_text, html, next_audit_id, users
from tests.support.users_pages import admin as admin  # the fixtures, for pytest to find here
from tests.support.users_pages import app as app
from tests.support.users_pages import factory as factory
from tests.support.web import PASSWORD, Page

TOKENS_HEAD = ["Id", "Name", "Created", "Last used", "Revoked", "Action"]


def checked(page: str) -> list[str]:
    """The values of the checked school boxes."""
    box = r'<input type="checkbox" id="school-[0-9]+" name="school" value="([^"]+)" checked>'
    return re.findall(box, page)


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
