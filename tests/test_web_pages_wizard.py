"""The wizard: the catalog behind its selects, the page, submitting it (apply or preview, once
however often the same form is sent), and its errors, which name the field and keep the
choices."""

import re
from datetime import date

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from shared.batches import catalog
from shared.core.db import SessionFactory
from shared.core.vocabulary import CHANNELS, REASONS
from shared.models import Batch
from tests.support.web import EnqueueRecorder, Page, batch_count
from tests.support.web_pages import REASON_LABELS, changes_with
from tests.support.web_pages import app as app  # the fixture, for pytest to find here

CHANNEL_LABELS = [
    "Household Phone",
    "Home Phone",
    "Work Phone",
    "Cell Phone",
    "Email",
    "Secondary Email",
]


# --- the catalog behind the selects ---------------------------------------------------------


def test_catalog_lists_what_the_wizard_offers(session_factory: SessionFactory, web_district):
    with session_factory() as session:
        assert catalog.school_years(session) == ["2025-26", "2024-25"]
        assert catalog.schools(session) == [
            catalog.SchoolOption("S-N", "North Elementary"),
            catalog.SchoolOption("S-S", "South High"),
        ]
        assert catalog.calendars(session) == [
            catalog.CalendarOption("C-N-26", "North 25-26", "S-N", "North Elementary", "2025-26"),
            catalog.CalendarOption("C-S-26", "South 25-26", "S-S", "South High", "2025-26"),
            catalog.CalendarOption("C-N-25", "North 24-25", "S-N", "North Elementary", "2024-25"),
        ]
        assert [c.calendar_id for c in catalog.calendars(session, "2024-25")] == ["C-N-25"]
        assert catalog.filters(session, "student") == [
            catalog.FilterOption(web_district["student_filter"], "grades 9-10", "student")
        ]
        assert catalog.filters(session, "census") == [
            catalog.FilterOption(web_district["census_filter"], "staff", "census")
        ]


# --- the wizard -----------------------------------------------------------------------------


def test_the_wizard_renders_the_matrix_and_the_choices(
    client: FlaskClient, csrf: str, web_district: dict[str, int]
):
    response = client.get("/batches/new")
    assert response.status_code == 200
    page = Page(response.get_data(as_text=True))

    matrix = [name for name in page.selects if name.startswith("changes.")]
    assert matrix == [f"changes.{c}.{r}" for c in CHANNELS for r in REASONS]
    assert len(matrix) == 6 * 8
    for name in matrix:
        assert page.options(name) == [("noChange", "No Change"), ("on", "On"), ("off", "Off")]
        assert page.selected(name) == "noChange"
    assert page.tables["changes"][0] == ["Channel", *REASON_LABELS]
    assert [row[0] for row in page.tables["changes"][1:]] == CHANNEL_LABELS
    assert page.label_for["changes.cellPhone.behavior"] == "Cell Phone: Behavior Messenger"

    assert page.radios["mode"] == [("studentContact", True), ("student", False), ("census", False)]
    assert [page.label_for[f"mode-{mode}"] for mode in ("studentContact", "student", "census")] == [
        "Student Messenger Contacts",
        "Students",
        "Census/Staff",
    ]
    assert page.options("schoolYear") == [
        ("", "(none)"),
        ("2025-26", "2025-26"),
        ("2024-25", "2024-25"),
    ]
    assert page.selected("schoolYear") is None  # no scope is chosen for the user
    assert page.options("schoolId") == [
        ("", "All schools"),
        ("S-N", "North Elementary"),
        ("S-S", "South High"),
    ]
    assert page.options("calendarId") == [
        ("", "(none: use the school year and school)"),
        ("C-N-26", "2025-26 · North Elementary · North 25-26"),
        ("C-S-26", "2025-26 · South High · South 25-26"),
        ("C-N-25", "2024-25 · North Elementary · North 24-25"),
    ]
    assert page.options("filterId") == [
        ("", "(none)"),
        (str(web_district["student_filter"]), "grades 9-10"),
        (str(web_district["census_filter"]), "staff"),
    ]
    # Every select has a label.
    assert sorted(page.label_for[s["id"]] != "" for s in page.selects.values()) == [True] * 52
    assert page.inputs["keepGuardianChoices"]["type"] == "checkbox"
    assert page.label_for["keepGuardianChoices"] == "Keep guardians' own choices"
    assert "guardians set themselves may be overwritten" in response.get_data(as_text=True)
    assert page.buttons[-2:] == [
        ("action", "preview", "Preview"),
        ("action", "apply", "Apply Changes"),
    ]


def test_submitting_the_wizard_creates_a_batch_and_redirects(
    client: FlaskClient,
    csrf: str,
    session_factory: SessionFactory,
    enqueued: EnqueueRecorder,
):
    form = {
        "csrf_token": csrf,
        "mode": "studentContact",
        "schoolYear": "2025-26",
        "schoolId": "S-N",
        "calendarId": "",
        "filterId": "",
        "asOf": "2025-10-15",
        "changes.email.emergency": "on",
        "changes.householdPhone.attendance": "off",
        "changes.cellPhone.teacher": "noChange",
        "keepGuardianChoices": "true",
        "action": "apply",
    }
    response = client.post("/batches/new", data=form)
    assert (response.status_code, response.headers["Location"]) == (302, "/batches/1")
    assert enqueued.calls == [("batches.plan", (1,))]
    with session_factory() as session:
        batch = session.scalars(select(Batch)).one()
        assert (
            batch.mode,
            batch.school_year,
            batch.school_ext_id,
            batch.calendar_ext_id,
            batch.filter_id,
            batch.as_of,
            batch.keep_guardian_choices,
            batch.dry_run,
            batch.status,
        ) == (
            "studentContact",
            "2025-26",
            "S-N",
            None,
            None,
            date(2025, 10, 15),
            True,
            False,
            "queued",
        )
        assert batch.changes == changes_with(
            email__emergency="on", householdPhone__attendance="off"
        )

    page = client.get("/batches/1")
    assert page.status_code == 200
    assert 'id="batch-status" role="status" aria-live="polite">Queued<' in page.get_data(
        as_text=True
    )


def test_preview_submits_a_dry_run(
    client: FlaskClient, csrf: str, session_factory: SessionFactory, web_district: dict[str, int]
):
    form = {
        "csrf_token": csrf,
        "mode": "census",
        "schoolYear": "2025-26",  # ignored: census mode has no scope
        "filterId": str(web_district["census_filter"]),
        "asOf": "2025-10-15",
        "changes.workPhone.staff": "on",
        "action": "preview",
    }
    response = client.post("/batches/new", data=form)
    assert (response.status_code, response.headers["Location"]) == (302, "/batches/1")
    with session_factory() as session:
        batch = session.scalars(select(Batch)).one()
        assert (batch.mode, batch.school_year, batch.filter_id, batch.dry_run) == (
            "census",
            None,
            web_district["census_filter"],
            True,
        )
        assert batch.changes == changes_with(workPhone__staff="on")
    assert "Batch 1 (preview)" in client.get("/batches/1").get_data(as_text=True)


@pytest.mark.parametrize(
    ("form", "control", "shown"),
    [
        ({"mode": "census"}, "filterId", "Ad hoc filter</strong></a>: Census/Staff needs a "
         "census filter: choose one under Ad hoc filter."),
        ({"mode": "student"}, "schoolYear", "Scope</strong></a>: Choose who is in scope: a "
         "calendar; or a school and a school year; or a school year alone, for every school in "
         "the district."),
        ({"mode": "student", "calendarId": "C-N-26", "asOf": "2025-02-30"}, "asOf",
         "As of</strong></a>: There is no such day as 2025-02-30: February 2025 has 28 days."),
        ({"mode": "student", "calendarId": "C-N-26"}, "asOf",
         "As of</strong></a>: Give the As of date: the day on which enrollments, relationships "
         "and memberships are judged."),
        ({"mode": "student", "calendarId": "C-N-26", "asOf": "2025-10-15",
          "changes.email.emergency": "maybe"},
         "changes.email.emergency", "Email: Emergency</strong></a>: Unknown option "
         "&#39;maybe&#39;; one of noChange, on, off."),
        ({"mode": "student", "calendarId": "C-N-26", "changes.cellPhone.sms": "on"}, "changes",
         "Cell Phone: sms</strong></a>: Text-message (SMS) preferences can never be set by a "
         "batch."),
    ],
)  # fmt: skip
def test_wizard_errors_name_the_field_and_keep_the_choices(
    client: FlaskClient,
    csrf: str,
    session_factory: SessionFactory,
    enqueued: EnqueueRecorder,
    form: dict[str, str],
    control: str,
    shown: str,
):
    response = client.post(
        "/batches/new",
        data={"csrf_token": csrf, "action": "apply", "changes.email.general": "off", **form},
    )
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert shown in html
    assert f'<a href="#{control}">' in html
    page = Page(html)
    assert page.selected("mode") == form["mode"]
    assert page.selected("changes.email.general") == "off"
    if control in page.selects:
        assert page.selects[control]["attrs"]["aria-invalid"] == "true"
    assert control in page.ids
    assert batch_count(session_factory) == 0
    assert enqueued.calls == []


SUBMISSION_TOKEN = re.compile(r'name="submission" value="([^"]+)"')


def test_the_same_wizard_form_sent_twice_is_one_batch(
    client: FlaskClient, csrf: str, session_factory: SessionFactory, enqueued: EnqueueRecorder
):
    token = SUBMISSION_TOKEN.search(client.get("/batches/new").get_data(as_text=True))
    assert token is not None
    form = {
        "csrf_token": csrf,
        "submission": token.group(1),
        "mode": "student",
        "calendarId": "C-N-26",
        "asOf": "2025-10-15",
        "changes.email.emergency": "on",
        "action": "preview",
    }
    first = client.post("/batches/new", data=form)
    again = client.post("/batches/new", data=form)  # a double click, or a resent POST
    assert (first.headers["Location"], again.headers["Location"]) == ("/batches/1", "/batches/1")
    # the same page, then Apply Changes: another request, so another batch
    applied = client.post("/batches/new", data=form | {"action": "apply"})
    assert applied.headers["Location"] == "/batches/2"
    assert enqueued.calls == [("batches.plan", (1,)), ("batches.plan", (2,))]
    # a new showing of the wizard has a token of its own
    other = re.search(
        r'name="submission" value="([^"]+)"', client.get("/batches/new").get_data(as_text=True)
    )
    assert other is not None and other.group(1) != token.group(1)
