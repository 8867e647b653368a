"""Reach: per school and for the district, the students whose guardians would receive each
reason by phone, by e-mail and by either, and the students nobody would reach. On a district
where each student's guardians and their addresses are known; on SQLite and PostgreSQL."""

from datetime import date

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from shared.core.db import SessionFactory
from shared.models import School
from shared.people.reachability import reach_report, unreached
from tests.support.driver import as_json
from tests.support.reach_district import (
    ALPHA,
    AS_OF,
    BETA,
    add_users,
    make_district,
    reasons,
    row,
)
from tests.support.web import error_of, log_in
from web.services import services


@pytest.fixture
def district(session_factory: SessionFactory) -> SessionFactory:
    return make_district(session_factory)


@pytest.fixture
def users(district: SessionFactory) -> None:
    add_users(district)


def test_reach_per_school_and_for_the_district(district: SessionFactory):
    with district() as session:
        report = as_json(reach_report(session, AS_OF, None))
    assert report == {
        "asOf": "2025-10-15",
        "district": {
            "students": 5,
            "reasons": reasons(emergency=(2, 2, 4), attendance=(1, 1, 2), general=(0, 1, 1)),
        },
        "schools": [ALPHA, BETA],
    }


def test_a_school_admin_sees_their_schools_and_the_district_is_theirs(district: SessionFactory):
    with district() as session:
        beta = session.scalar(select(School.id).where(School.ext_id == "B"))
        report = as_json(reach_report(session, AS_OF, frozenset({beta})))
    assert report["district"] == {"students": 2, "reasons": BETA["reasons"]}
    assert report["schools"] == [BETA]


def test_on_another_date_other_students_count(district: SessionFactory):
    """On 2025-09-15 b1 is still enrolled, and a3's link to a1's guardian has ended."""
    with district() as session:
        report = as_json(reach_report(session, date(2025, 9, 15), None))
    assert report["schools"][1]["students"] == 3
    assert report["schools"][1]["reasons"]["emergency"] == {"phone": 1, "email": 2, "either": 3}


def test_the_students_nobody_reaches_one_row_each(district: SessionFactory):
    with district() as session:
        assert list(unreached(session, AS_OF, "emergency", None)) == [row("a3", "A", "03")]
        assert list(unreached(session, AS_OF, "general", None)) == [
            row(f"a{n}", "A", f"0{n}") for n in range(1, 5)
        ]
        assert list(unreached(session, AS_OF, "teacher", None)) == [
            *(row(f"a{n}", "A", f"0{n}") for n in range(1, 5)),
            row("b3", "B", "05"),
        ]


def test_the_reach_api_as_each_role(users: None, app: Flask, client: FlaskClient):
    viewer = app.test_client()
    log_in(viewer, "vera")
    assert viewer.get("/api/v1/reach?asOf=2025-10-15").get_json()["schools"] == [ALPHA, BETA]
    log_in(client, "beta")
    beta = client.get("/api/v1/reach?asOf=2025-10-15").get_json()
    assert (beta["district"]["students"], beta["schools"]) == (2, [BETA])
    listed = client.get("/api/v1/reach/unreached.csv?asOf=2025-10-15&reason=teacher")
    assert listed.status_code == 200
    assert listed.headers["Content-Disposition"] == (
        'attachment; filename="unreached-teacher-2025-10-15.csv"'
    )
    assert listed.get_data(as_text=True) == (
        "personId,firstName,lastName,schoolId,school,grade\na4,F,La4,B,Beta,04\nb3,F,Lb3,B,Beta,05\n"
    )


def test_reach_defaults_to_today_in_the_district_and_to_emergency(
    users: None, app: Flask, client: FlaskClient
):
    log_in(client, "admin")
    with app.app_context():
        today = services().today()
    assert client.get("/api/v1/reach").get_json()["asOf"] == today.isoformat()
    listed = client.get("/api/v1/reach/unreached.csv?asOf=2025-10-15")
    assert listed.get_data(as_text=True).splitlines()[1:] == ["a3,F,La3,A,Alpha,03"]


@pytest.mark.parametrize(
    "query, field, message",
    [
        (
            "asOf=2025-02-30",
            "asOf",
            "there is no such day as 2025-02-30: February 2025 has 28 days",
        ),
        ("asOf=", "asOf", "must be a date as YYYY-MM-DD; got ''"),
        (
            "reason=fire",
            "reason",
            "must be one of emergency, attendance, behavior, staff, "
            "general, foodService, priority, teacher",
        ),
    ],
)
def test_bad_reach_queries_are_refused(
    users: None, client: FlaskClient, query: str, field: str, message: str
):
    log_in(client, "admin")
    refused = client.get(f"/api/v1/reach/unreached.csv?{query}")
    assert refused.status_code == 400
    assert error_of(refused) == {"code": "invalid", "message": message, "field": field}
