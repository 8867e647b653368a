"""The district's default grid for new addresses: read, set (audited), and refused input that
changes nothing. How an import applies it: tests/test_import_quarantine.py. On SQLite and
PostgreSQL."""

import pytest
from flask.testing import FlaskClient

from shared.core.db import SessionFactory
from tests.support.web import add_user, audit_rows, error_of


@pytest.fixture
def app_admin(session_factory: SessionFactory) -> None:
    add_user(session_factory, "admin", "district_admin")


def test_the_default_grid(
    session_factory: SessionFactory, app_admin: None, client: FlaskClient, csrf: str
):
    off = {
        r: "off"
        for r in (
            "emergency",
            "attendance",
            "behavior",
            "staff",
            "general",
            "foodService",
            "priority",
            "teacher",
        )
    }
    channels = ("householdPhone", "homePhone", "workPhone", "cellPhone", "email", "secondaryEmail")
    assert client.get("/api/v1/defaults").get_json() == {c: off for c in channels}
    put = client.put(
        "/api/v1/defaults",
        json={
            "email": {"emergency": "on", "attendance": "on"},
            "householdPhone": {"emergency": "on"},
        },
        headers={"X-CSRFToken": csrf},
    )
    assert put.status_code == 200, put.get_json()
    expected = {c: dict(off) for c in channels}
    expected["email"].update(emergency="on", attendance="on")
    expected["householdPhone"]["emergency"] = "on"
    assert put.get_json() == expected == client.get("/api/v1/defaults").get_json()
    refused = client.put(
        "/api/v1/defaults", json={"sms": {"emergency": "on"}}, headers={"X-CSRFToken": csrf}
    )
    assert (refused.status_code, error_of(refused)["field"]) == (400, "sms")
    wrong = client.put(
        "/api/v1/defaults", json={"email": {"emergency": "noChange"}}, headers={"X-CSRFToken": csrf}
    )
    assert (wrong.status_code, error_of(wrong)["field"]) == (400, "email.emergency")
    assert client.get("/api/v1/defaults").get_json() == expected
    updates = [
        detail
        for _, action, _, detail in audit_rows(session_factory)
        if action == "defaults.update"
    ]
    assert updates == [
        {
            "householdPhone": ["emergency"],
            "homePhone": [],
            "workPhone": [],
            "cellPhone": [],
            "email": ["emergency", "attendance"],
            "secondaryEmail": [],
        }
    ]
