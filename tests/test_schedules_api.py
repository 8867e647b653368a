"""Schedules through the API: made, read with their next due times in the district's zone,
changed, paused, run now or previewed, deleted; refused clearly; scoped like batches (a school
admin's within their schools, a viewer reads); every change audited."""

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from sqlalchemy import select

from shared.core.db import SessionFactory
from shared.models import Batch
from tests.support.web import Caller, add_user, audit_rows, error_of, make_app

CHICAGO = ZoneInfo("America/Chicago")
RESET = {
    "mode": "studentContact",
    "scope": {"schoolYear": "2025-26"},
    "changes": {"email": {"emergency": "on"}},
}
NORTH = {"mode": "studentContact", "scope": {"calendarId": "C-N-26"}, "changes": RESET["changes"]}
BODY = {"name": "Start-of-year reset", "template": RESET, "rule": {"cron": "0 2 1 8 *"}}


@pytest.fixture
def app(session_factory: SessionFactory, web_district: dict[str, int], tmp_path: Any) -> Flask:
    """The district of add_district, in America/Chicago; users admin, vera (viewer) and north
    (a school admin of S-N)."""
    add_user(session_factory, "vera", "viewer")
    add_user(session_factory, "north", "school_admin", schools=["S-N"])
    return make_app(session_factory, tmp_path, timezone="America/Chicago")


@pytest.fixture
def admin(app: Flask, session_factory: SessionFactory) -> Caller:
    return Caller(app, session_factory, "admin")


def test_a_schedule_is_made_read_changed_and_deleted(
    admin: Caller, session_factory: SessionFactory
):
    made = admin.call("POST", "/schedules", BODY)
    assert made.status_code == 201, made.get_json()
    view = made.get_json()
    schedule_id = view["id"]
    assert made.headers["Location"] == f"/api/v1/schedules/{schedule_id}"
    assert {key: view[key] for key in ("name", "rule", "timeZone", "enabled", "catchUpHours")} == {
        "name": "Start-of-year reset",
        "rule": {"cron": "0 2 1 8 *"},
        "timeZone": "America/Chicago",
        "enabled": True,
        "catchUpHours": 6.0,
    }
    assert view["owner"] == "admin"
    assert view["lastRun"] is None
    assert view["template"]["scope"] == {
        "schoolYear": "2025-26",
        "schoolId": None,
        "calendarId": None,
    }
    now = datetime.now(CHICAGO)
    first = now.year if now < datetime(now.year, 8, 1, 2, tzinfo=CHICAGO) else now.year + 1
    assert view["nextRuns"] == [
        f"{year}-08-01T02:00:00-05:00" for year in (first, first + 1, first + 2)
    ]

    changed = admin.call("PATCH", f"/schedules/{schedule_id}", {"enabled": False, "name": "Reset"})
    assert changed.status_code == 200
    assert (changed.get_json()["enabled"], changed.get_json()["nextRuns"]) == (False, [])
    assert admin.call("GET", "/schedules").get_json()[0]["name"] == "Reset"

    assert admin.call("DELETE", f"/schedules/{schedule_id}").status_code == 204
    assert admin.call("GET", f"/schedules/{schedule_id}").status_code == 404
    assert admin.call("GET", "/schedules").get_json() == []
    actions = [row[1] for row in audit_rows(session_factory) if row[2] == f"schedule:{schedule_id}"]
    assert actions == ["schedule.create", "schedule.pause", "schedule.delete"]


def test_run_now_makes_a_run_and_a_batch_and_a_dry_run_makes_neither(
    admin: Caller, session_factory: SessionFactory
):
    schedule_id = admin.call("POST", "/schedules", BODY).get_json()["id"]

    asked = datetime.now(UTC)
    ran = admin.call("POST", f"/schedules/{schedule_id}/run")
    answered = datetime.now(UTC)
    preview = admin.call("POST", f"/schedules/{schedule_id}/run?dryRun=true")

    assert (ran.status_code, preview.status_code) == (202, 202)
    runs = admin.call("GET", f"/schedules/{schedule_id}/runs").get_json()
    assert [(run["status"], run["batchId"], run["requestedBy"]) for run in runs] == [
        ("ran", ran.get_json()["id"], "admin")
    ]
    with session_factory() as session:
        batches = session.execute(select(Batch.id, Batch.dry_run).order_by(Batch.id)).all()
    assert [tuple(row) for row in batches] == [
        (ran.get_json()["id"], False),
        (preview.get_json()["id"], True),
    ]
    view = admin.call("GET", f"/schedules/{schedule_id}").get_json()
    assert view["lastRun"]["batchId"] == ran.get_json()["id"]
    # Its due time is the moment it was asked, written with the district's offset.
    due = datetime.fromisoformat(view["lastRun"]["dueAt"])
    assert asked <= due <= answered
    assert view["lastRun"]["dueAt"] == due.astimezone(CHICAGO).isoformat()
    assert [row[1] for row in audit_rows(session_factory) if row[1].startswith("schedule.")] == [
        "schedule.create",
        "schedule.run",
    ]


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        (
            BODY | {"rule": {"yearly": {"month": 2, "day": 30, "time": "02:00"}}},
            "rule.yearly.day",
            None,
        ),
        (BODY | {"rule": {"cron": "0 2 1 8"}}, "rule.cron", None),
        (BODY | {"rule": {}}, "rule", None),
        (
            BODY | {"template": RESET | {"asOf": "2026-08-01"}},
            "template.asOf",
            "a template takes no asOf: each run is as of its own local date, for real",
        ),
        (BODY | {"catchUpHours": 0}, "catchUpHours", "must be at least 0.01"),
        (BODY | {"catchUpHours": "6"}, "catchUpHours", "must be a number"),
        (
            BODY | {"template": RESET | {"scope": {"schoolId": "S-X", "schoolYear": "2025-26"}}},
            "template.scope.schoolId",
            "no school 'S-X'",
        ),
        (BODY | {"name": " "}, "name", "must not be empty"),
    ],
)
def test_a_bad_schedule_is_refused_naming_its_field(
    admin: Caller, session_factory: SessionFactory, body: Any, field: str, message: str | None
):
    refused = admin.call("POST", "/schedules", body)

    assert refused.status_code == 400
    error = error_of(refused)
    assert error["field"] == field
    if message is not None:
        assert error["message"] == message
    assert admin.call("GET", "/schedules").get_json() == []


def test_a_viewer_reads_and_a_school_admin_manages_only_their_schools(
    app: Flask, admin: Caller, session_factory: SessionFactory
):
    district = admin.call("POST", "/schedules", BODY).get_json()["id"]
    vera = Caller(app, session_factory, "vera")
    north = Caller(app, session_factory, "north")

    assert vera.call("POST", "/schedules", BODY).status_code == 403
    assert vera.call("POST", f"/schedules/{district}/run").status_code == 403
    assert vera.call("GET", f"/schedules/{district}").status_code == 200

    assert north.call("POST", "/schedules", BODY).status_code == 403
    own = north.call("POST", "/schedules", BODY | {"name": "North", "template": NORTH})
    assert own.status_code == 201
    assert [each["name"] for each in north.call("GET", "/schedules").get_json()] == ["North"]
    assert north.call("GET", f"/schedules/{district}").status_code == 403
    assert north.call("PATCH", f"/schedules/{district}", {"enabled": False}).status_code == 403
    assert north.call("DELETE", f"/schedules/{district}").status_code == 403
    assert [each["name"] for each in vera.call("GET", "/schedules").get_json()] == [
        "North",
        "Start-of-year reset",
    ]
