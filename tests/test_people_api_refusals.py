"""The PATCH routes of preferences refuse: a bad body (400, naming the field), an unknown person or
household (404), a viewer (403), no credentials (401), and a login session without its CSRF
token; a refused edit writes nothing."""

from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from shared.core.db import SessionFactory
from shared.models import AuditEntry, preferences
from tests.support.people_api import admin, patch
from tests.support.people_api import app as app  # the fixtures, for pytest to find here
from tests.support.people_api import factory as factory
from tests.support.web import add_token, bearer, error_of, log_in


def written(factory: SessionFactory) -> tuple[list[tuple[Any, ...]], list[str]]:
    with factory() as session:
        rows = session.execute(select(preferences).order_by(*preferences.primary_key)).all()
        # the token's use is recorded whatever the answer; what matters is that nothing else is
        actions = session.scalars(
            select(AuditEntry.action)
            .where(AuditEntry.action != "token.use")
            .order_by(AuditEntry.id)
        ).all()
        return [tuple(row) for row in rows], list(actions)


@pytest.mark.parametrize(
    ("path", "body", "message", "field"),
    [
        ("/people/P-1/preferences", b"{", "the body is not valid JSON", "body"),
        ("/people/P-1/preferences", [], "the body must be a JSON object", "body"),
        ("/people/P-1/preferences", {"setBy": "mother", "changes": {}},
         "must be one of guardian, staff; got 'mother'", "setBy"),
        ("/people/P-1/preferences", {"setBy": "staff", "changes": {"workPhone": {"staff": "on"}}},
         "person P-1 has no workPhone", "changes.workPhone"),
        ("/people/P-1/preferences",
         {"setBy": "staff", "changes": {"householdPhone": {"staff": "on"}}},
         "householdPhone belongs to a household; "
         "use PATCH /api/v1/households/<householdId>/preferences", "changes.householdPhone"),
        ("/households/H-1/preferences", {"setBy": "staff", "changes": {"householdPhone": {}}},
         "nothing to change: set at least one reason to on or off", "changes"),
        ("/households/H-1/preferences", {"setBy": "staff", "changes": {"email": {"staff": "on"}}},
         "a household has only householdPhone; "
         "set a person's email with PATCH /api/v1/people/<personId>/preferences", "changes.email"),
    ],
)  # fmt: skip
def test_a_bad_patch_is_400_naming_the_field_and_writes_nothing(
    client: FlaskClient,
    factory: SessionFactory,
    path: str,
    body: Any,
    message: str,
    field: str,
):
    headers = admin(factory)
    before = written(factory)
    response = patch(client, path, body, headers)
    assert (response.status_code, error_of(response)) == (
        400,
        {"code": "invalid", "message": message, "field": field},
    )
    assert written(factory) == before


def test_unknown_subjects_are_404(client: FlaskClient, factory: SessionFactory):
    headers = admin(factory)
    person = patch(
        client,
        "/people/P-9/preferences",
        {"setBy": "staff", "changes": {"email": {"staff": "on"}}},
        headers,
    )
    household = patch(
        client,
        "/households/H-9/preferences",
        {"setBy": "staff", "changes": {"householdPhone": {"staff": "on"}}},
        headers,
    )
    assert (person.status_code, error_of(person)) == (
        404,
        {"code": "not_found", "message": "no person 'P-9'", "field": None},
    )
    assert (household.status_code, error_of(household)) == (
        404,
        {"code": "not_found", "message": "no household 'H-9'", "field": None},
    )


@pytest.mark.parametrize(
    ("path", "channel"),
    [("/people/P-1/preferences", "email"), ("/households/H-1/preferences", "householdPhone")],
)
def test_a_viewer_gets_403_and_no_credentials_401(
    client: FlaskClient, factory: SessionFactory, path: str, channel: str
):
    body = {"setBy": "staff", "changes": {channel: {"general": "on"}}}
    before = written(factory)

    viewer = patch(client, path, body, bearer(add_token(factory, "vera")))
    nobody = patch(client, path, body, {})

    assert (viewer.status_code, error_of(viewer)) == (
        403,
        {
            "code": "forbidden",
            "message": "only a district admin or a school admin may do this; you are a viewer",
            "field": None,
        },
    )
    assert (nobody.status_code, error_of(nobody)) == (
        401,
        {
            "code": "unauthorized",
            "message": "sign in, or send Authorization: Bearer <token>",
            "field": None,
        },
    )
    preference_rows, actions = written(factory)
    assert preference_rows == before[0]
    assert "preferences.edit" not in actions


def test_the_login_session_needs_the_csrf_token(client: FlaskClient, factory: SessionFactory):
    csrf = log_in(client)
    body = {"setBy": "guardian", "changes": {"email": {"general": "on"}}}

    refused = patch(client, "/people/P-1/preferences", body, {})
    accepted = patch(client, "/people/P-1/preferences", body, {"X-CSRFToken": csrf})

    assert (refused.status_code, error_of(refused)["code"]) == (400, "csrf_failed")
    assert accepted.status_code == 200
    assert accepted.get_json()["channels"]["email"]["setters"]["general"] == "guardian"
    with factory() as session:
        entry = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "preferences.edit")
        ).one()
        assert (entry.username, entry.subject) == ("admin", "person:P-1")
