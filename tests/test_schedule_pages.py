"""The schedule pages: the form saves exactly the rule and template chosen, refuses bad input on the
form (saving nothing), offers the start-of-year reset ready-made and the wizard's grid as it was;
viewers read; pause, resume, delete, run now and preview from the schedule's page."""

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from shared.access.users import update_user
from shared.core.db import SessionFactory
from tests.support.schedule_pages import (
    FORM,
    FORM_TEMPLATE,
    NORTH,
    NORTH_STORED_CHANGES,
    REFUSED_FORMS,
    SAVED_RULES,
    START_OF_YEAR_TEMPLATE,
    as_shown,
    form_fields,
    html,
    next_first_of_august,
    now,
    run_rows,
    schedule_rows,
    signed_in,
    start_of_year_fields,
)
from tests.support.schedule_pages import app as app  # the fixture, for pytest to find here
from tests.support.schedules import make_schedule
from tests.support.web import EnqueueRecorder, Page, audit_rows, batch_count


@pytest.fixture
def admin(app: Flask) -> tuple[FlaskClient, str]:
    return signed_in(app)


@pytest.mark.parametrize(("fields", "rule"), SAVED_RULES)
def test_the_form_saves_exactly_the_rule_and_template_chosen(
    admin: tuple[FlaskClient, str],
    session_factory: SessionFactory,
    web_district: dict[str, int],
    fields: dict[str, str],
    rule: dict[str, Any],
):
    client, csrf = admin
    form = FORM | {"filterId": str(web_district["student_filter"])} | fields
    saved = client.post("/schedules/new", data={"csrf_token": csrf, **form})

    assert (saved.status_code, saved.location) == (302, "/schedules/1")
    assert schedule_rows(session_factory) == [
        {
            "name": "Weekday mornings",
            "template": FORM_TEMPLATE | {"filterId": web_district["student_filter"]},
            "rule": rule,
            "enabled": True,
            "catchUpHours": 2.5,
            "owner": "admin",
            "deleted": False,
        }
    ]
    page = html(client.get("/schedules/1"))
    assert "Schedule &#39;Weekday mornings&#39; is saved." in page
    assert "<li>Cell Phone: Attendance: Off</li><li>Email: Emergency: On</li>" in page
    # The edit form shows what was saved.
    edit = form_fields(html(client.get("/schedules/1/edit")))
    expected = {name: value for name, value in form.items() if not name.startswith("rule.")}
    expected |= fields
    assert {name: edit[name] for name in expected} == expected


@pytest.mark.parametrize(("fields", "control", "shown"), REFUSED_FORMS)
def test_a_refused_form_shows_the_error_and_saves_nothing(
    admin: tuple[FlaskClient, str],
    session_factory: SessionFactory,
    fields: dict[str, str],
    control: str,
    shown: str,
):
    client, csrf = admin
    refused = client.post("/schedules/new", data={"csrf_token": csrf, **FORM, **fields})

    assert refused.status_code == 400
    assert shown in html(refused)
    assert f'<a href="#{control}">' in html(refused)
    assert f'id="{control}"' in html(refused)
    assert 'aria-invalid="true"' in html(refused).split(f'id="{control}"')[1].split(">")[0]
    kept = form_fields(html(refused))
    assert {name: kept[name] for name in fields} == fields  # the choices stay
    assert kept["changes.cellPhone.attendance"] == "off"
    assert schedule_rows(session_factory) == []


def test_the_start_of_year_reset_is_ready_made(
    admin: tuple[FlaskClient, str], session_factory: SessionFactory
):
    client, csrf = admin
    assert 'href="/schedules/new?template=start-of-year"' in html(client.get("/schedules/new"))
    page = html(client.get("/schedules/new?template=start-of-year"))

    fields = form_fields(page)
    assert fields.pop("csrf_token") and fields == start_of_year_fields()
    assert Page(page).options("rule.yearly.month")[7] == ("8", "August")

    saved = client.post("/schedules/new", data=fields | {"csrf_token": csrf})
    assert saved.location == "/schedules/1"
    [saved] = schedule_rows(session_factory)
    assert saved["template"] == START_OF_YEAR_TEMPLATE
    assert saved["rule"] == {"yearly": {"month": 8, "day": 1, "time": "02:00"}}
    assert (saved["catchUpHours"], saved["enabled"], saved["owner"]) == (6.0, True, "admin")
    listed = Page(html(client.get("/schedules"))).tables["schedules"]
    assert listed[1] == [
        "Start-of-year reset",
        "every year on 1 August at 02:00",
        "".join(next_first_of_august()),
        "Enabled",
        "never",
    ]


def test_schedule_this_batch_carries_the_wizard_grid_and_makes_no_batch(
    admin: tuple[FlaskClient, str],
    session_factory: SessionFactory,
    enqueued: EnqueueRecorder,
    web_district: dict[str, int],
):
    client, csrf = admin
    wizard = Page(html(client.get("/batches/new")))
    assert wizard.inputs["prefill"]["formaction"] == "/schedules/new"
    assert wizard.inputs["prefill"]["value"] == "Schedule this batch…"
    grid = {
        "mode": "census",
        "filterId": str(web_district["census_filter"]),
        "changes.workPhone.staff": "on",
        "changes.email.general": "off",
        "keepGuardianChoices": "true",
    }
    sent = {"csrf_token": csrf, "submission": "t1", "asOf": "2025-10-15", **grid}
    prefilled = client.post("/schedules/new", data=sent | {"prefill": "Schedule this batch…"})

    assert prefilled.status_code == 200
    fields = form_fields(html(prefilled))
    assert {name: fields[name] for name in grid} == grid
    assert fields["changes.email.emergency"] == "noChange"
    assert (fields["name"], fields["ruleKind"], fields["enabled"]) == ("", "yearly", "true")
    assert "asOf" not in fields and "submission" not in fields
    assert batch_count(session_factory) == 0 and enqueued.calls == []
    assert schedule_rows(session_factory) == []


def test_editing_saves_the_form_and_makes_the_editor_its_owner(
    app: Flask, session_factory: SessionFactory
):
    schedule_id = make_schedule(session_factory, now(), template=NORTH, username="north")
    client, csrf = signed_in(app)
    form = form_fields(html(client.get(f"/schedules/{schedule_id}/edit")))
    shown = ("calendarId", "ruleKind", "rule.cron", "changes.email.emergency", "catchUpHours")
    assert [form[name] for name in shown] == ["C-N-26", "cron", "0 2 * * *", "on", "6"]
    assert (form["enabled"], form["name"]) == ("true", "reset")
    refused = client.post(f"/schedules/{schedule_id}/edit", data=form | {"rule.cron": "0 2"})
    assert refused.status_code == 400 and "The schedule was not saved" in html(refused)
    assert schedule_rows(session_factory)[0]["rule"] == {"cron": "0 2 * * *"}

    edited = form | {"name": "North mornings", "rule.cron": "30 6 * * 1-5"}
    saved = client.post(f"/schedules/{schedule_id}/edit", data=edited)

    assert saved.location == f"/schedules/{schedule_id}"
    [row] = schedule_rows(session_factory)
    assert (row["name"], row["rule"], row["owner"], row["template"]) == (
        "North mornings",
        {"cron": "30 6 * * 1-5"},
        "admin",
        NORTH | {"changes": NORTH_STORED_CHANGES, "keepGuardianChoices": False},
    )
    assert "Saved. The changes apply to the runs to come." in html(client.get(saved.location))


def test_a_viewer_reads_the_schedules_but_gets_403_on_the_form(
    app: Flask, session_factory: SessionFactory
):
    schedule_id = make_schedule(session_factory, now(), template=NORTH, name="North")
    viewer, csrf = signed_in(app, "vera")

    listed = viewer.get("/schedules")
    assert listed.status_code == 200
    assert Page(html(listed)).tables["schedules"][1][0] == "North"
    assert "New schedule" not in html(listed)
    shown = viewer.get(f"/schedules/{schedule_id}")
    assert shown.status_code == 200 and "Run now" not in html(shown)
    assert viewer.get("/schedules/new").status_code == 403
    assert viewer.post("/schedules/new", data={"csrf_token": csrf, **FORM}).status_code == 403
    refused = [row for row in audit_rows(session_factory) if row[1] == "access.denied"]
    assert [(row[0], row[2]) for row in refused] == [
        ("vera", "GET /schedules/new"),
        ("vera", "POST /schedules/new"),
    ]


def test_a_school_admin_outside_their_schools_gets_403_on_the_form(
    app: Flask, session_factory: SessionFactory
):
    north, csrf = signed_in(app, "north")
    form = FORM | {"schoolId": "S-S", "ruleKind": "cron", "rule.cron": "0 2 * * *"}
    refused = north.post("/schedules/new", data={"csrf_token": csrf, **form})

    assert refused.status_code == 403
    assert "The schedule was not saved" in html(refused)
    assert form_fields(html(refused))["name"] == "Weekday mornings"
    assert schedule_rows(session_factory) == []
    assert [row[:2] for row in audit_rows(session_factory) if row[1] == "access.denied"] == [
        ("north", "access.denied")
    ]


def test_pause_resume_and_delete_from_the_page(
    admin: tuple[FlaskClient, str], session_factory: SessionFactory
):
    client, csrf = admin
    start_of_year = form_fields(html(client.get("/schedules/new?template=start-of-year")))
    assert client.post("/schedules/new", data=start_of_year).location == "/schedules/1"

    paused = client.post("/schedules/1/enabled", data={"csrf_token": csrf, "enabled": "false"})
    assert (paused.status_code, paused.location) == (302, "/schedules/1")
    page = html(client.get("/schedules/1"))
    assert '<dd id="schedule-state">Paused</dd>' in page and 'id="next-runs"' not in page
    assert "None: the schedule is paused." in page
    assert Page(html(client.get("/schedules"))).tables["schedules"][1][2:4] == ["none", "Paused"]

    client.post("/schedules/1/enabled", data={"csrf_token": csrf, "enabled": "true"})
    page = html(client.get("/schedules/1"))
    assert '<dd id="schedule-state">Enabled</dd>' in page
    assert "".join(f"<li>{when}</li>" for when in next_first_of_august()) in page

    confirm = client.get("/schedules/1/delete")
    assert "Delete schedule Start-of-year reset?" in html(confirm)
    deleted = client.post("/schedules/1/delete", data={"csrf_token": csrf})
    assert (deleted.status_code, deleted.location) == (302, "/schedules")
    assert "No schedules yet." in html(client.get("/schedules"))
    assert client.get("/schedules/1").status_code == 404
    assert [row["deleted"] for row in schedule_rows(session_factory)] == [True]
    actions = [row[1] for row in audit_rows(session_factory) if row[2] == "schedule:1"]
    assert actions == ["schedule.create", "schedule.pause", "schedule.resume", "schedule.delete"]


def test_run_now_and_preview_lead_to_their_batches_and_the_run_is_listed(
    admin: tuple[FlaskClient, str], session_factory: SessionFactory, enqueued: EnqueueRecorder
):
    client, csrf = admin
    schedule_id = make_schedule(session_factory, now(), template=NORTH, name="North")

    ran = client.post(f"/schedules/{schedule_id}/run", data={"csrf_token": csrf})
    previewed = client.post(f"/schedules/{schedule_id}/preview", data={"csrf_token": csrf})

    assert (ran.location, previewed.location) == ("/batches/1", "/batches/2")
    assert enqueued.calls == [("batches.plan", (1,)), ("batches.plan", (2,))]
    assert "Batch 2 (preview)" in html(client.get("/batches/2"))
    [(due, status, batch_id, reason)] = run_rows(session_factory)  # the preview is no run
    assert (status, batch_id, reason) == ("ran", 1, None)
    runs = Page(html(client.get(f"/schedules/{schedule_id}"))).tables["runs"]
    assert runs == [
        ["Due", "Status", "Batch", "Reason", "Run now by"],
        [as_shown(due), "Ran", "batch 1", "", "admin"],
    ]
    listed = Page(html(client.get("/schedules"))).tables["schedules"][1]
    assert listed[4] == f"Ran, {as_shown(due)}: batch 1"


def test_a_run_that_cannot_run_is_listed_and_its_reason_shown(
    admin: tuple[FlaskClient, str], session_factory: SessionFactory, enqueued: EnqueueRecorder
):
    client, csrf = admin
    schedule_id = make_schedule(session_factory, now(), template=NORTH, username="north")
    with session_factory.begin() as session:
        update_user(session, "north", role="viewer", by="admin")

    refused = client.post(f"/schedules/{schedule_id}/run", data={"csrf_token": csrf})

    assert refused.location == f"/schedules/{schedule_id}"
    reason = (
        "its owner 'north' is a viewer now, and a viewer may not run batches; an admin must "
        "save its template again to own it"
    )
    page = html(client.get(refused.location))
    assert f"schedule {schedule_id} could not run: {reason}".replace("'", "&#39;") in page
    [(due, status, batch_id, stored)] = run_rows(session_factory)
    assert (status, batch_id, stored) == ("failed", None, reason)
    assert Page(page).tables["runs"][1] == [as_shown(due), "Failed", "", reason, "admin"]
    assert enqueued.calls == []
