"""The pages: the wizard and its selects, submitting it, the batch page and the history."""

import re
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from shared.batches import catalog
from shared.core.db import SessionFactory
from shared.core.vocabulary import CHANNELS, REASONS
from shared.models import Batch, BatchChunk
from tests.support.web import (
    EnqueueRecorder,
    Page,
    add_user,
    batch_count,
    log_in,
    make_app,
)
from web.labels import format_moment

CHANNEL_LABELS = [
    "Household Phone",
    "Home Phone",
    "Work Phone",
    "Cell Phone",
    "Email",
    "Secondary Email",
]
REASON_LABELS = [
    "Emergency",
    "Attendance",
    "Behavior Messenger",
    "Staff",
    "General",
    "Food Service",
    "Priority",
    "Teacher",
]
NO_CHANGE = {channel: dict.fromkeys(REASONS, "noChange") for channel in CHANNELS}


@pytest.fixture
def app(web_district: dict[str, int], app: Flask) -> Flask:
    """The shared app, after web_district's admin and district."""
    return app


def changes_with(**cells: str) -> dict[str, dict[str, str]]:
    """NO_CHANGE with some cells set, e.g. changes_with(email__emergency="on")."""
    changes = {channel: dict(row) for channel, row in NO_CHANGE.items()}
    for key, option in cells.items():
        channel, reason = key.split("__")
        changes[channel][reason] = option
    return changes


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

    assert page.options("mode") == [
        ("studentContact", "Student Messenger Contacts"),
        ("student", "Students"),
        ("census", "Census/Staff"),
    ]
    assert page.options("schoolYear") == [
        ("", "(none)"),
        ("2025-26", "2025-26"),
        ("2024-25", "2024-25"),
    ]
    assert page.selected("schoolYear") == "2025-26"  # no calendar runs today: the newest
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
    assert sorted(page.label_for[s["id"]] != "" for s in page.selects.values()) == [True] * 53
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
    assert 'id="batch-status" role="status" aria-live="polite">queued<' in page.get_data(
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
        ({"mode": "census"}, "filterId", "Ad hoc filter</strong></a>\n    (<code>filterId</code>): "
         "Census/Staff mode needs a census filter"),
        ({"mode": "student"}, "schoolYear", "Scope</strong></a>\n    (<code>scope</code>): give a "
         "calendarId, a schoolId with a schoolYear, or a schoolYear"),
        ({"mode": "student", "calendarId": "C-N-26", "asOf": "2025-02-30"}, "asOf",
         "As of</strong></a>\n    (<code>asOf</code>): must be a date as YYYY-MM-DD; got "
         "&#39;2025-02-30&#39;"),
        ({"mode": "student", "calendarId": "C-N-26", "changes.email.emergency": "maybe"},
         "changes.email.emergency", "Email: Emergency</strong></a>\n    "
         "(<code>changes.email.emergency</code>): unknown option &#39;maybe&#39;; one of "
         "noChange, on, off"),
        ({"mode": "student", "calendarId": "C-N-26", "changes.cellPhone.sms": "on"}, "changes",
         "Cell Phone: sms</strong></a>\n    (<code>changes.cellPhone.sms</code>): text-message "
         "(SMS) preferences can never be set by a batch"),
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


def test_times_are_shown_in_the_district_time_zone():
    chicago = ZoneInfo("America/Chicago")
    assert format_moment("2025-10-15T08:00:00+00:00", chicago) == "2025-10-15 03:00:00 CDT"
    assert format_moment("2025-12-15T08:00:00", chicago) == "2025-12-15 02:00:00 CST"
    assert format_moment(None, chicago) == ""


# --- the batch page -------------------------------------------------------------------------


def add_finished_batch(factory: SessionFactory, **overrides: Any) -> int:
    counts: dict[str, dict[str, int | None]] = {c: dict.fromkeys(REASONS) for c in CHANNELS}
    counts["householdPhone"]["attendance"] = 4
    counts["email"].update(emergency=12, priority=0)
    kept: dict[str, dict[str, int | None]] = {c: dict.fromkeys(REASONS) for c in CHANNELS}
    kept["householdPhone"]["attendance"] = 0
    kept["email"].update(emergency=2, priority=0)
    values: dict[str, Any] = {
        "kind": "batch",
        "status": "succeeded",
        "mode": "studentContact",
        "calendar_ext_id": "C-N-26",
        "as_of": date(2025, 10, 15),
        "changes": changes_with(
            householdPhone__attendance="on", email__emergency="on", email__priority="off"
        ),
        "keep_guardian_choices": True,
        "submitted_at": datetime(2025, 10, 15, 8, 0, tzinfo=UTC),
        "started_at": datetime(2025, 10, 15, 8, 0, 1, tzinfo=UTC),
        "finished_at": datetime(2025, 10, 15, 8, 0, 3, tzinfo=UTC),
        "planned": True,
        "chunks_total": 2,
        "targets": 6,
        "errors": [],
        "counts": counts,
        "kept": kept,
        **overrides,
    }
    with factory.begin() as session:
        batch = Batch(**values)
        session.add(batch)
        session.flush()
        session.add_all([BatchChunk(batch_id=batch.id, chunk_no=n, done=True) for n in range(2)])
        return batch.id


def test_the_batch_page_shows_a_finished_result(
    client: FlaskClient, csrf: str, session_factory: SessionFactory
):
    batch_id = add_finished_batch(session_factory)
    response = client.get(f"/batches/{batch_id}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    page = Page(html)
    assert "<p>Mode: studentContact</p>" in html
    assert "<p>Errors: No Errors</p>" in html
    assert "<p>Targets: 6</p>" in html
    assert "<dt>Scope</dt><dd>Calendar C-N-26</dd>" in html
    assert "<dt>Finished</dt><dd>2025-10-15 08:00:03 UTC</dd>" in html
    assert '<progress id="batch-progress" max="2" value="2">' in html
    assert "batch.js" not in html  # finished: nothing to poll
    no = "No Change"
    assert page.tables["counts"] == [
        ["Channel", *REASON_LABELS],
        ["Household Phone", no, "4", no, no, no, no, no, no],
        ["Home Phone", *[no] * 8],
        ["Work Phone", *[no] * 8],
        ["Cell Phone", *[no] * 8],
        ["Email", "12", no, no, no, no, no, "0", no],
        ["Secondary Email", *[no] * 8],
    ]
    assert page.tables["kept"][1] == ["Household Phone", no, "0", no, no, no, no, no, no]
    assert page.tables["kept"][5] == ["Email", "2", no, no, no, no, no, "0", no]


def test_the_batch_page_lists_errors_of_a_failed_batch(
    client: FlaskClient, csrf: str, session_factory: SessionFactory
):
    batch_id = add_finished_batch(
        session_factory,
        status="failed",
        errors=["chunk 1: deadlock detected", "gave up after 3 tries"],
        keep_guardian_choices=False,
    )
    html = client.get(f"/batches/{batch_id}").get_data(as_text=True)
    assert (
        '<p>Errors:</p>\n  <ul class="errors"><li>chunk 1: deadlock detected</li>'
        "<li>gave up after 3 tries</li></ul>"
    ) in html
    assert "No Errors" not in html
    assert "kept" not in Page(html).tables


def test_the_batch_page_of_a_queued_batch_polls(
    client: FlaskClient, csrf: str, session_factory: SessionFactory
):
    batch_id = add_finished_batch(
        session_factory, status="queued", started_at=None, finished_at=None, chunks_total=None
    )
    html = client.get(f"/batches/{batch_id}").get_data(as_text=True)
    assert f'data-poll-url="/api/v1/batches/{batch_id}" data-final="false"' in html
    assert '<progress id="batch-progress">' in html
    assert '<script src="/static/batch.js" defer></script>' in html
    assert "Result" not in html


def test_an_unknown_batch_page_is_404(client: FlaskClient, csrf: str):
    response = client.get("/batches/42")
    assert response.status_code == 404
    assert "no batch 42" in response.get_data(as_text=True)


def test_history_lists_batches_newest_first(
    client: FlaskClient, csrf: str, session_factory: SessionFactory
):
    first = add_finished_batch(session_factory)
    second = add_finished_batch(session_factory, status="running", finished_at=None)
    page = Page(client.get("/batches").get_data(as_text=True))
    rows = page.tables["history"]
    assert rows[0] == ["Batch", "Status", "Mode", "Preview", "As of", "Submitted", "By"]
    assert [row[:5] for row in rows[1:]] == [
        [str(second), "running", "Student Messenger Contacts", "no", "2025-10-15"],
        [str(first), "succeeded", "Student Messenger Contacts", "no", "2025-10-15"],
    ]
    running = Page(client.get("/batches?status=running").get_data(as_text=True))
    assert [row[0] for row in running.tables["history"][1:]] == [str(second)]
    assert client.get("/batches?status=bogus").status_code == 400


def test_static_files_are_served(client: FlaskClient):
    for name, kind in [("style.css", "text/css"), ("wizard.js", "text/javascript"),
                       ("batch.js", "text/javascript")]:  # fmt: skip
        response = client.get(f"/static/{name}")
        assert (response.status_code, response.mimetype) == (200, kind)
        response.close()


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


def test_the_batch_page_offers_what_can_be_done(
    client: FlaskClient, csrf: str, session_factory: SessionFactory
):
    finished = add_finished_batch(session_factory)
    html = client.get(f"/batches/{finished}").get_data(as_text=True)
    assert f'href="/batches/{finished}/undo">Undo…</a>' in html
    assert f'href="/api/v1/batches/{finished}/changes.csv" download>' in html
    assert 'id="cancel"' not in html and 'id="apply"' not in html
    running = add_finished_batch(session_factory, status="running", finished_at=None)
    html = client.get(f"/batches/{running}").get_data(as_text=True)
    assert f'action="/batches/{running}/cancel"' in html
    assert "Undo…" not in html and "changes.csv" not in html
    preview = add_finished_batch(session_factory, dry_run=True)
    html = client.get(f"/batches/{preview}").get_data(as_text=True)
    assert f'action="/batches/{preview}/apply"' in html
    assert "Undo…" not in html


def test_undo_asks_first_then_queues_the_undo(
    client: FlaskClient, csrf: str, session_factory: SessionFactory, enqueued: EnqueueRecorder
):
    batch_id = add_finished_batch(session_factory)
    confirm = client.get(f"/batches/{batch_id}/undo")
    assert confirm.status_code == 200
    assert f"<h1>Undo batch {batch_id}?</h1>" in confirm.get_data(as_text=True)
    assert enqueued.calls == []  # asking changes nothing
    assert client.post(f"/batches/{batch_id}/undo").status_code == 400  # no CSRF token

    done = client.post(f"/batches/{batch_id}/undo", data={"csrf_token": csrf})
    undo_id = batch_id + 1
    assert (done.status_code, done.headers["Location"]) == (302, f"/batches/{undo_id}")
    assert enqueued.calls == [("batches.plan", (undo_id,))]
    html = client.get(f"/batches/{undo_id}").get_data(as_text=True)
    assert f"The undo of batch {batch_id} is queued." in html
    assert f"<h1>Undo batch {undo_id}</h1>" in html

    twice = client.post(f"/batches/{batch_id}/undo", data={"csrf_token": csrf})
    assert twice.headers["Location"] == f"/batches/{batch_id}"
    assert f"batch {batch_id} was undone already, by batch {undo_id}" in client.get(
        f"/batches/{batch_id}"
    ).get_data(as_text=True)


def test_cancel_from_the_page(
    client: FlaskClient, csrf: str, session_factory: SessionFactory, enqueued: EnqueueRecorder
):
    batch_id = add_finished_batch(session_factory, status="running", finished_at=None)
    done = client.post(f"/batches/{batch_id}/cancel", data={"csrf_token": csrf})
    assert (done.status_code, done.headers["Location"]) == (302, f"/batches/{batch_id}")
    html = client.get(f"/batches/{batch_id}").get_data(as_text=True)
    assert f"Batch {batch_id} is cancelled; what it applied stays, and can be undone." in html
    assert 'aria-live="polite">cancelled<' in html
    again = client.post(f"/batches/{batch_id}/cancel", data={"csrf_token": csrf})
    assert again.headers["Location"] == f"/batches/{batch_id}"
    assert "has finished (cancelled); there is nothing to stop" in client.get(
        f"/batches/{batch_id}"
    ).get_data(as_text=True)


def test_a_viewer_cannot_undo_cancel_or_apply(
    session_factory: SessionFactory, tmp_path: Path, web_district: dict[str, int]
):
    batch_id = add_finished_batch(session_factory)
    add_user(session_factory, "vera", "viewer")
    client = make_app(session_factory, tmp_path).test_client()
    csrf = log_in(client, "vera")
    assert "Undo…" not in client.get(f"/batches/{batch_id}").get_data(as_text=True)
    for action in ("undo", "cancel", "apply"):
        response = client.post(f"/batches/{batch_id}/{action}", data={"csrf_token": csrf})
        assert response.status_code == 403
