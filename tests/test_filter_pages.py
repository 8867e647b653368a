"""The filter designer's pages: the list (a school admin sees their own), making a filter from
the form (schools, grades, flags, pasted and uploaded ids, each bad line reported and nothing
saved), who matches without JavaScript, and delete refused while a schedule uses the filter;
and the unsaved-criteria preview of the API that the page's live count calls."""

import io
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from shared.core.db import SessionFactory
from shared.models import Calendar, Filter, User
from shared.schedules.request import ScheduleRequest
from shared.schedules.service import create_schedule
from tests.support.browser import browser_page, serving, sign_in
from tests.support.district import District
from tests.support.web import PASSWORD, Page, add_user, audit_rows, log_in


@pytest.fixture
def app(session_factory: SessionFactory, web_district: dict[str, int], app: Flask) -> Flask:
    """add_district's schools and filters; students Ann (P1, grade 09) and Ben (P2, 10) at
    North, Cy (P3, 09) at South; a school admin of North."""
    add_user(session_factory, "north", "school_admin", schools=["S-N"])
    with session_factory.begin() as session:
        d = District(session)
        calendars = {c.ext_id: c for c in session.scalars(select(Calendar))}
        for ext_id, first, grade, calendar in (
            ("P1", "Ann", "09", "C-N-26"),
            ("P2", "Ben", "10", "C-N-26"),
            ("P3", "Cy", "09", "C-S-26"),
        ):
            person = d.person(ext_id)
            person.first_name = first
            d.enroll(person, calendars[calendar], grade)
    return app


def saved_filters(factory: SessionFactory) -> list[tuple[str, str, Any]]:
    with factory() as session:
        rows = session.execute(
            select(Filter.name, Filter.kind, Filter.criteria).order_by(Filter.id)
        )
        return [tuple(row) for row in rows]  # type: ignore[misc]


def test_make_a_student_filter_from_the_form(
    client: FlaskClient, csrf: str, session_factory: SessionFactory
):
    page = Page(client.get("/filters/new").get_data(as_text=True))
    assert [value for value, _ in page.radios["kind"]] == ["student", "census"]
    form = {
        "csrf_token": csrf,
        "name": "North 9th",
        "kind": "student",
        "schoolIds": "S-N",
        "grades": "09",
        "personIds": "",
        "action": "save",
    }
    saved = client.post("/filters/new", data=form)
    assert (saved.status_code, saved.headers["Location"]) == (302, "/filters/3")
    assert saved_filters(session_factory)[-1] == (
        "North 9th",
        "student",
        {"schoolIds": ["S-N"], "grades": ["09"]},
    )
    assert ("admin", "filter.create", "filter:3") in [
        row[:3] for row in audit_rows(session_factory)
    ]
    shown = Page(client.get("/filters/3").get_data(as_text=True))
    assert shown.inputs["name"]["value"] == "North 9th"


def test_who_matches_without_javascript(client: FlaskClient, csrf: str):
    form = {"csrf_token": csrf, "kind": "student", "grades": "09", "action": "preview"}
    html = client.post("/filters/new", data=form).get_data(as_text=True)
    assert '<p id="preview-count">2 people match.</p>' in html
    assert "<li>LP1, Ann (P1)</li><li>LP3, Cy (P3)</li>" in html


def test_every_bad_line_of_the_ids_is_reported_and_nothing_saved(
    client: FlaskClient, csrf: str, session_factory: SessionFactory
):
    before = saved_filters(session_factory)
    form = {
        "csrf_token": csrf,
        "name": "some",
        "kind": "census",
        "personIds": "P1\nnot an id\n\nP-404, P2",
        "personIdsFile": (io.BytesIO(b"P3\nP-405\n"), "more.csv"),
        "action": "save",
    }
    refused = client.post("/filters/new", data=form, content_type="multipart/form-data")
    assert refused.status_code == 400
    page = refused.get_data(as_text=True)
    assert "3 problems in the list of person ids; nothing was saved" in page
    items = page.split('<ul id="filter-problems">')[1].split("</ul>")[0]
    assert items == (
        "<li>pasted list, line 2: &#39;not an id&#39; holds a space: give one id a line</li>"
        "<li>pasted list, line 4: no person &#39;P-404&#39;</li>"
        "<li>file more.csv, line 2: no person &#39;P-405&#39;</li>"
    )
    assert saved_filters(session_factory) == before
    form |= {"personIds": "P1\nP2", "personIdsFile": (io.BytesIO(b"P3\r\nP1\r\n"), "more.csv")}
    saved = client.post("/filters/new", data=form, content_type="multipart/form-data")
    assert saved.status_code == 302
    assert saved_filters(session_factory)[-1] == (
        "some",
        "census",
        {"personIds": ["P1", "P2", "P3"]},
    )


def test_delete_is_refused_while_a_schedule_uses_the_filter(
    client: FlaskClient, csrf: str, session_factory: SessionFactory, web_district: dict[str, int]
):
    staff = web_district["census_filter"]
    with session_factory.begin() as session:
        admin = session.scalars(select(User).where(User.username == "admin")).one()
        request = ScheduleRequest.model_validate(
            {
                "name": "Staff reset",
                "template": {"mode": "census", "filterId": staff,
                             "changes": {"email": {"staff": "on"}}},
                "rule": {"yearly": {"month": 8, "day": 1, "time": "02:00"}},
            }
        )  # fmt: skip
        create_schedule(session, request, user=admin, now=datetime.now(UTC))
    listed = Page(client.get("/filters").get_data(as_text=True)).tables["filters"]
    assert listed[1:] == [
        ["grades 9-10", "Student", "—", ""],
        ["staff", "Census", "—", "Staff reset"],
    ]
    refused = client.post(f"/filters/{staff}/delete", data={"csrf_token": csrf})
    assert refused.headers["Location"] == f"/filters/{staff}"
    assert "Not deleted: filter" in client.get(f"/filters/{staff}").get_data(as_text=True)
    grades = web_district["student_filter"]
    deleted = client.post(f"/filters/{grades}/delete", data={"csrf_token": csrf})
    assert deleted.headers["Location"] == "/filters"
    assert [name for name, _, _ in saved_filters(session_factory)] == ["staff"]


def test_a_school_admin_sees_and_makes_their_own(app: Flask, session_factory: SessionFactory):
    north = app.test_client()
    token = log_in(north, "north")
    assert "no-filters" in Page(north.get("/filters").get_data(as_text=True)).ids
    form = {"csrf_token": token, "name": "mine", "kind": "student", "grades": "10"}
    assert north.post("/filters/new", data=form | {"action": "save"}).status_code == 302
    rows = Page(north.get("/filters").get_data(as_text=True)).tables["filters"]
    assert rows[1:] == [["mine", "Student", "north", ""]]
    # what matches is limited to their school
    html = north.post("/filters/new", data=form | {"grades": "09", "action": "preview"}).text
    assert '<p id="preview-count">1 person matches.</p>' in html


def test_the_api_previews_unsaved_criteria(client: FlaskClient, csrf: str):
    headers = {"X-CSRFToken": csrf}
    body = {"kind": "student", "criteria": {"grades": ["09"]}, "asOf": "2025-10-15"}
    answer = client.post("/api/v1/filters/preview", json=body, headers=headers)
    assert answer.get_json() == {
        "asOf": "2025-10-15",
        "count": 2,
        "sample": [
            {"personId": "P1", "firstName": "Ann", "lastName": "LP1"},
            {"personId": "P3", "firstName": "Cy", "lastName": "LP3"},
        ],
    }
    census = {"kind": "census", "criteria": {"students": True, "personIds": ["P2"]}}
    assert (
        client.post("/api/v1/filters/preview", json=census, headers=headers).get_json()["count"]
        == 0
    )  # today P2's calendar has ended


@pytest.mark.parametrize("session_factory", ["sqlite"], indirect=True)
def test_the_count_follows_the_criteria_in_the_browser(app: Flask):
    expect = pytest.importorskip("playwright.sync_api").expect  # waits for the count to follow
    with serving(app) as base, browser_page(base) as page:
        page.goto("/filters/new")
        sign_in(page, "admin", PASSWORD)
        page.wait_for_url("**/filters/new")
        count = page.locator("#preview-count")
        page.get_by_label("09").check()
        expect(count).to_have_text("2 people match.")
        assert page.locator("#preview-sample li").all_inner_texts() == [
            "LP1, Ann (P1)",
            "LP3, Cy (P3)",
        ]
        page.get_by_label("North Elementary").first.check()
        expect(count).to_have_text("1 person matches.")
        page.get_by_label("Census").check()
        assert page.locator("#student-criteria").is_hidden()
        page.get_by_label("Person ids, one a line").fill("P2\nP3")
        expect(count).to_have_text("2 people match.")
        page.get_by_label("Person ids, one a line").fill("P2\nnot an id")
        expect(count).to_have_text("1 person matches.")  # Save reports the bad line
        page.get_by_role("button", name="Save the filter").click()
        assert page.locator("#filter-problems li").all_inner_texts() == [
            "pasted list, line 2: 'not an id' holds a space: give one id a line"
        ]
