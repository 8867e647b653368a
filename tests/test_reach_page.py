"""The Reach page as the server renders it: the chosen reason per school (chart and table),
every reason for the district, the students nobody reaches with the CSV link, a school admin's
schools only, and a bad date refused next to its field. On SQLite and PostgreSQL; the browser
test (tests/test_reach_browser.py) checks the page in Chromium."""

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from shared.core.db import SessionFactory
from tests.support.reach_district import add_users, make_district
from tests.support.web import Page, log_in


@pytest.fixture
def signed_in(session_factory: SessionFactory, app: Flask) -> Flask:
    add_users(make_district(session_factory))
    return app


def page_of(app: Flask, username: str, query: str) -> tuple[int, str, Page]:
    client: FlaskClient = app.test_client()
    log_in(client, username)
    response = client.get(f"/reach?{query}")
    html = response.get_data(as_text=True)
    return response.status_code, html, Page(html)


def test_the_reach_page_for_emergency(signed_in: Flask):
    status, html, page = page_of(signed_in, "vera", "asOf=2025-10-15&reason=emergency")
    assert status == 200
    assert page.selected("reason") == "emergency"
    assert page.inputs["asOf"]["value"] == "2025-10-15"
    summary = re.search(r'<p id="reach-summary">(.*?)</p>', html, re.S)
    assert summary is not None
    assert " ".join(re.sub(r"<[^>]+>", "", summary.group(1)).split()) == (
        "As of 2025-10-15: of the 5 students enrolled in 2 schools, 4 (80 %) would receive "
        "Emergency messages by phone or e-mail, and 1 would be reached by nobody."
    )
    assert page.tables["reach-schools"] == [
        ["School", "Students", "Phone", "E-mail", "Either", "Nobody"],
        ["Alpha", "4", "2 (50 %)", "1 (25 %)", "3 (75 %)", "1 (25 %)"],
        ["Beta", "2", "0 (0 %)", "2 (100 %)", "2 (100 %)", "0 (0 %)"],
        ["District", "5", "2 (40 %)", "2 (40 %)", "4 (80 %)", "1 (20 %)"],
    ]
    assert page.tables["reach-reasons"][:3] == [
        ["Reason", "Phone", "E-mail", "Either", "Nobody"],
        ["Emergency", "2 (40 %)", "2 (40 %)", "4 (80 %)", "1 (20 %)"],
        ["Attendance", "1 (20 %)", "1 (20 %)", "2 (40 %)", "3 (60 %)"],
    ]
    assert page.tables["unreached"] == [
        ["Person id", "Name", "School", "Grade"],
        ["a3", "La3, F", "Alpha", "03"],
    ]
    assert 'href="/api/v1/reach/unreached.csv?asOf=2025-10-15&amp;reason=emergency"' in html
    bars = re.findall(r'<rect x="60" y="\d+" width="([0-9.]+)" height="14" class="bar ', html)
    # District, Alpha, Beta: phone, e-mail, either, each out of 300 at 100 %.
    assert bars == ["120.0", "120.0", "240.0", "150.0", "75.0", "225.0", "0.0", "300.0", "300.0"]
    assert "<script" not in html.split("<main", 1)[1]


def test_a_school_admin_sees_their_school(signed_in: Flask):
    status, _, page = page_of(signed_in, "beta", "asOf=2025-10-15&reason=teacher")
    assert status == 200
    assert page.tables["reach-schools"] == [
        ["School", "Students", "Phone", "E-mail", "Either", "Nobody"],
        ["Beta", "2", "0 (0 %)", "0 (0 %)", "0 (0 %)", "2 (100 %)"],
        ["Your schools", "2", "0 (0 %)", "0 (0 %)", "0 (0 %)", "2 (100 %)"],
    ]
    assert page.tables["unreached"][1:] == [
        ["a4", "La4, F", "Beta", "04"],
        ["b3", "Lb3, F", "Beta", "05"],
    ]


def test_a_date_that_does_not_exist_is_refused_in_words(signed_in: Flask):
    status, html, page = page_of(signed_in, "admin", "asOf=2025-02-30")
    assert status == 400
    assert "reach-schools" not in page.tables
    assert "there is no such day as 2025-02-30: February 2025 has 28 days (As of)" in html
    assert page.inputs["asOf"]["value"] == "2025-02-30"
