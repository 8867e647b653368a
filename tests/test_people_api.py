"""PATCH /api/v1/people/<personId>/preferences and PATCH /api/v1/households/<id>/preferences:
the bodies they answer, their OpenAPI description, and an edit that deadlocks with a batch chunk
run again."""

import threading
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select, text

from shared.core.db import SessionFactory
from shared.core.vocabulary import REASONS
from shared.models import AuditEntry
from tests.support.people_api import add_people, admin, patch
from tests.support.people_api import app as app  # the fixtures, for pytest to find here
from tests.support.people_api import factory as factory
from tests.support.preference_edit import wait_for_a_lock_wait
from tests.support.web import make_app
from web.api.openapi import openapi_document


def reasons(on: tuple[str, ...] = (), default: str = "import", **setters: str) -> dict[str, Any]:
    return {
        "values": {reason: reason in on for reason in REASONS},
        "setters": {reason: setters.get(reason, default) for reason in REASONS},
    }


NEVER_SET = reasons(default="default")


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
    examples = [("HouseholdEdit", request), ("HouseholdPreferences", household.get_json())]
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
