"""PATCH /api/v1/people/<personId>/preferences and PATCH /api/v1/households/<id>/preferences:
the bodies they answer, their refusals (400, 401, 403, 404) and their OpenAPI description."""

import json
import threading
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, text

from shared.core.db import SessionFactory
from shared.core.vocabulary import REASONS
from shared.models import AuditEntry, preferences
from tests.support.district import District
from tests.support.web import add_token, add_user, bearer, error_of, log_in, make_app
from tests.test_preference_edit import wait_for_a_lock_wait
from web.api.openapi import openapi_document


def reasons(on: tuple[str, ...] = (), default: str = "import", **setters: str) -> dict[str, Any]:
    return {
        "values": {reason: reason in on for reason in REASONS},
        "setters": {reason: setters.get(reason, default) for reason in REASONS},
    }


NEVER_SET = reasons(default="default")


@pytest.fixture
def factory(session_factory: SessionFactory) -> SessionFactory:
    return add_people(session_factory)


def add_people(session_factory: SessionFactory) -> SessionFactory:
    """P-1 (email with emergency on; a cell phone) in H-1 (a phone, emergency on); admin and
    the viewer vera."""
    add_user(session_factory, "admin", "district_admin")
    add_user(session_factory, "vera", "viewer")
    with session_factory.begin() as session:
        d = District(session)
        mother = d.person("P-1", email="ana@example.org", cell_phone="555-0101")
        home = d.household("H-1", phone="555-0100")
        d.member(home, mother)
        d.prefer(mother, "email", ["emergency"])
        d.prefer(home, "householdPhone", ["emergency"])
        d.finish()
    return session_factory


@pytest.fixture
def app(factory: SessionFactory, app: Flask) -> Flask:
    """The shared app, after `factory`'s data."""
    return app


def patch(client: FlaskClient, path: str, body: Any, headers: dict[str, str]) -> Any:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return client.patch(
        f"/api/v1{path}", data=data, content_type="application/json", headers=headers
    )


def admin(factory: SessionFactory) -> dict[str, str]:
    return bearer(add_token(factory, "admin"))


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


def test_patch_a_person_answers_the_person_s_preferences(
    client: FlaskClient, factory: SessionFactory
):
    changes = {"email": {"emergency": "off", "general": "on"}, "cellPhone": {"teacher": "on"}}
    response = patch(
        client, "/people/P-1/preferences", {"setBy": "guardian", "changes": changes}, admin(factory)
    )

    assert response.status_code == 200
    assert response.get_json() == {
        "personId": "P-1",
        "firstName": "F",
        "lastName": "LP-1",
        "channels": {
            "homePhone": {"address": None, **NEVER_SET},
            "workPhone": {"address": None, **NEVER_SET},
            "cellPhone": {
                "address": "555-0101",
                **reasons(("teacher",), default="default", teacher="guardian"),
            },
            "email": {
                "address": "ana@example.org",
                **reasons(("general",), emergency="guardian", general="guardian"),
            },
            "secondaryEmail": {"address": None, **NEVER_SET},
        },
        "households": [
            {
                "householdId": "H-1",
                "name": "Household H-1",
                "phone": "555-0100",
                "startDate": None,
                "endDate": None,
                **reasons(("emergency",)),
            }
        ],
    }
    assert (
        response.get_json()
        == client.get("/api/v1/people/P-1/preferences", headers=admin(factory)).get_json()
    )


def test_patch_a_household_answers_the_household_s_preferences(
    client: FlaskClient, factory: SessionFactory
):
    body = {"setBy": "staff", "changes": {"householdPhone": {"attendance": "on"}}}
    response = patch(client, "/households/H-1/preferences", body, admin(factory))

    assert response.status_code == 200
    assert response.get_json() == {
        "householdId": "H-1",
        "name": "Household H-1",
        "phone": "555-0100",
        **reasons(("emergency", "attendance"), attendance="staff"),
    }


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


def test_openapi_describes_the_patches(client: FlaskClient, factory: SessionFactory):
    pytest.importorskip("openapi_schema_validator")
    from openapi_schema_validator import OAS31Validator

    document = openapi_document()
    assert set(document["paths"]["/people/{personId}/preferences"]) == {"get", "patch"}
    assert set(document["paths"]["/households/{householdId}/preferences"]) == {"patch"}
    rules = {
        (rule.rule, method)
        for rule in client.application.url_map.iter_rules()
        for method in rule.methods or ()
        if "preferences" in rule.rule and method == "PATCH"
    }
    assert rules == {
        ("/api/v1/people/<ext_id:person_id>/preferences", "PATCH"),
        ("/api/v1/households/<ext_id:household_id>/preferences", "PATCH"),
    }

    request = {"setBy": "guardian", "changes": {"householdPhone": {"general": "on"}}}
    household = patch(client, "/households/H-1/preferences", request, admin(factory))
    examples = [("PreferenceEdit", request), ("HouseholdPreferences", household.get_json())]
    for name, instance in examples:
        schema = {"$ref": f"#/components/schemas/{name}", "components": document["components"]}
        errors = [e.message for e in OAS31Validator(schema).iter_errors(instance)]
        assert (name, errors) == (name, [])


@pytest.mark.postgres
def test_an_edit_that_deadlocks_with_a_batch_chunk_is_run_again(
    pg_session_factory: SessionFactory, tmp_path: Path
):
    """A chunk holds P-1's email row and then wants the cell row, while the edit (which takes a
    person's channels in their order) holds the cell row and wants the email row. PostgreSQL
    breaks the deadlock by aborting the edit, the first to wait (the chunk's connection waits
    10 s before it checks). The chunk goes on and commits; the edit runs again, on top of it,
    and answers 200 instead of 500."""
    factory = add_people(pg_session_factory)
    client = make_app(factory, tmp_path).test_client()
    headers = admin(factory)
    chunk = factory()
    chunk.execute(text("SET deadlock_timeout = '10s'"))
    chunk_sets(chunk, channel=4, mask="mask | 4")  # P-1's email: behavior too
    answers: list[Any] = []
    body = {
        "setBy": "guardian",
        "changes": {"email": {"attendance": "on"}, "cellPhone": {"general": "on"}},
    }
    editor = threading.Thread(
        target=lambda: answers.append(patch(client, "/people/P-1/preferences", body, headers))
    )
    editor.start()
    try:
        wait_for_a_lock_wait(factory)
        # the chunk's second row: the edit holds it, so each waits for the other
        chunk_sets(chunk, channel=3, mask="1")  # P-1's cellPhone: emergency
    finally:
        chunk.commit()
        chunk.close()
        editor.join(timeout=30)
    [answer] = answers
    assert answer.status_code == 200, answer.get_json()
    channels = answer.get_json()["channels"]
    assert channels["cellPhone"]["values"] == {r: r in ("emergency", "general") for r in REASONS}
    assert channels["email"]["values"] == {
        r: r in ("emergency", "attendance", "behavior") for r in REASONS
    }
    with factory() as session:
        actions = session.scalars(
            select(AuditEntry.action).where(AuditEntry.action == "preferences.edit")
        ).all()
    assert actions == ["preferences.edit"]


def chunk_sets(chunk: Any, channel: int, mask: str) -> None:
    chunk.execute(
        text(
            f"UPDATE preferences SET mask = {mask} WHERE channel = :channel "
            "AND subject_id = (SELECT id FROM people WHERE ext_id = 'P-1')"
        ),
        {"channel": channel},
    )
