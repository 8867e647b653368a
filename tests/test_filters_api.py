"""Saved filters through the API: read, replace, delete and preview one, each scoped like the
rest (a school admin's own filters only, a viewer reads), audited, and never changing a batch
that ran with the filter."""

from datetime import UTC, date, datetime

import pytest
from flask import Flask

from shared.batches.pipeline.messages import plan
from shared.core.db import SessionFactory
from tests.support.district import District
from tests.support.driver import drain
from tests.support.web import Caller, add_user, audit_rows

AS_OF = {"asOf": "2025-10-15"}


@pytest.fixture
def app(session_factory: SessionFactory, app: Flask) -> Flask:
    """Two schools: at A, students a1 (grade 01), a2 and a3 (02), a4 (02, left in September)
    and teacher t1; at B, student b1 (02) and teacher t2. Users: admin, viewer vera, and north,
    a school admin of A."""
    with session_factory.begin() as session:
        d = District(session)
        a, b = d.school("A"), d.school("B")
        cal_a, cal_b = d.calendar("CAL-A", a), d.calendar("CAL-B", b)
        for ext_id, grade in (("a1", "01"), ("a2", "02"), ("a3", "02")):
            d.enroll(d.person(ext_id), cal_a, grade=grade)
        d.enroll(d.person("a4"), cal_a, grade="02", end=date(2025, 9, 30))
        d.enroll(d.person("b1"), cal_b, grade="02")
        d.assign(d.person("t1"), a)
        d.assign(d.person("t2"), b)
        d.finish()
    add_user(session_factory, "admin", "district_admin")
    add_user(session_factory, "vera", "viewer")
    add_user(session_factory, "north", "school_admin", schools=["A"])
    return app


@pytest.fixture
def admin(app: Flask, session_factory: SessionFactory) -> Caller:
    return Caller(app, session_factory, "admin")


def person(ext_id: str) -> dict[str, str]:
    return {"personId": ext_id, "firstName": "F", "lastName": f"L{ext_id}"}


def test_a_filter_is_read_replaced_and_deleted(admin: Caller, session_factory: SessionFactory):
    grade_2 = {"name": "second grade", "kind": "student", "criteria": {"grades": ["02", "02"]}}
    created = admin.call("POST", "/filters", grade_2)
    assert created.status_code == 201
    filter_id = created.get_json()["id"]
    assert created.headers["Location"] == f"/api/v1/filters/{filter_id}"
    expected = {"id": filter_id, "name": "second grade", "kind": "student"}
    assert created.get_json() == expected | {"criteria": {"grades": ["02"]}}
    assert admin.call("GET", f"/filters/{filter_id}").get_json() == created.get_json()

    teachers = {"name": "teachers", "kind": "census", "criteria": {"staff": True}}
    replaced = admin.call("PUT", f"/filters/{filter_id}", teachers)
    assert (replaced.status_code, replaced.get_json()) == (200, {"id": filter_id, **teachers})
    assert admin.call("GET", "/filters").get_json() == {"items": [{"id": filter_id, **teachers}]}

    deleted = admin.call("DELETE", f"/filters/{filter_id}")
    assert (deleted.status_code, deleted.get_data()) == (204, b"")
    gone = admin.call("GET", f"/filters/{filter_id}")
    assert (gone.status_code, gone.get_json()["error"]["message"]) == (
        404,
        f"no filter {filter_id}",
    )
    audited = [row[1:] for row in audit_rows(session_factory) if row[1].startswith("filter.")]
    assert audited == [
        ("filter.create", f"filter:{filter_id}", {"name": "second grade", "kind": "student"}),
        ("filter.update", f"filter:{filter_id}", {"name": "teachers", "kind": "census"}),
        ("filter.delete", f"filter:{filter_id}", {"name": "teachers", "kind": "census"}),
    ]


def test_a_bad_replacement_is_refused_and_changes_nothing(admin: Caller):
    saved = admin.call("POST", "/filters", {"name": "x", "kind": "census", "criteria": {}})
    filter_id = saved.get_json()["id"]
    refused = admin.call(
        "PUT", f"/filters/{filter_id}", {"name": "x", "kind": "student", "criteria": {"staff": 1}}
    )
    assert (refused.status_code, refused.get_json()["error"]["field"]) == (400, "criteria.staff")
    assert admin.call("GET", f"/filters/{filter_id}").get_json() == saved.get_json()


def test_a_preview_counts_who_matches_and_shows_the_first_by_name(admin: Caller):
    second = admin.call("POST", "/filters", {"name": "2", "kind": "student", "criteria": {}})
    grade_2 = {"name": "2", "kind": "student", "criteria": {"grades": ["02"]}}
    admin.call("PUT", f"/filters/{second.get_json()['id']}", grade_2)
    staff = admin.call(
        "POST", "/filters", {"name": "s", "kind": "census", "criteria": {"staff": True}}
    )

    students = admin.call("POST", f"/filters/{second.get_json()['id']}/preview", AS_OF)
    # a2, a3 and b1; a4 left on 30 September
    assert (students.status_code, students.get_json()) == (
        200,
        {"asOf": "2025-10-15", "count": 3, "sample": [person("a2"), person("a3"), person("b1")]},
    )
    in_september = admin.call(
        "POST", f"/filters/{second.get_json()['id']}/preview", {"asOf": "2025-09-15"}
    )
    assert in_september.get_json()["count"] == 4
    teachers = admin.call("POST", f"/filters/{staff.get_json()['id']}/preview", AS_OF)
    assert teachers.get_json()["sample"] == [person("t1"), person("t2")]


def test_a_preview_without_a_body_is_as_of_today(admin: Caller):
    staff = admin.call(
        "POST", "/filters", {"name": "s", "kind": "census", "criteria": {"staff": True}}
    )
    response = admin.client.post(
        f"/api/v1/filters/{staff.get_json()['id']}/preview", headers=admin.headers
    )
    assert response.status_code == 200
    assert response.get_json()["asOf"] == datetime.now(UTC).date().isoformat()
    assert response.get_json()["count"] == 2


def test_a_school_admin_reaches_only_their_own_filters_and_people(
    app: Flask, session_factory: SessionFactory, admin: Caller
):
    north = Caller(app, session_factory, "north")
    theirs = admin.call("POST", "/filters", {"name": "all", "kind": "student", "criteria": {}})
    mine = north.call("POST", "/filters", {"name": "mine", "kind": "student", "criteria": {}})
    assert mine.status_code == 201
    their_id, my_id = theirs.get_json()["id"], mine.get_json()["id"]

    for method, path, body in (
        ("GET", f"/filters/{their_id}", None),
        ("PUT", f"/filters/{their_id}", {"name": "x", "kind": "student"}),
        ("DELETE", f"/filters/{their_id}", None),
        ("POST", f"/filters/{their_id}/preview", AS_OF),
    ):
        refused = north.call(method, path, body)
        assert (refused.status_code, refused.get_json()["error"]["message"]) == (
            403,
            f"filter {their_id} is not one of your filters",
        ), (method, path)
    assert admin.call("GET", f"/filters/{their_id}").get_json()["name"] == "all"

    # The students of their school only: a1, a2 and a3, not b1.
    preview = north.call("POST", f"/filters/{my_id}/preview", AS_OF).get_json()
    assert (preview["count"], preview["sample"]) == (3, [person("a1"), person("a2"), person("a3")])


def test_a_viewer_reads_and_previews_but_changes_nothing(
    app: Flask, session_factory: SessionFactory, admin: Caller
):
    vera = Caller(app, session_factory, "vera")
    saved = admin.call("POST", "/filters", {"name": "s", "kind": "census", "criteria": {}})
    filter_id = saved.get_json()["id"]
    assert vera.call("GET", f"/filters/{filter_id}").status_code == 200
    assert vera.call("POST", f"/filters/{filter_id}/preview", AS_OF).get_json()["count"] == 7
    for method, body in (("PUT", {"name": "x", "kind": "census"}), ("DELETE", None)):
        assert vera.call(method, f"/filters/{filter_id}", body).status_code == 403
    assert admin.call("GET", f"/filters/{filter_id}").get_json() == saved.get_json()


def test_a_batch_keeps_the_criteria_it_was_submitted_with(
    admin: Caller, session_factory: SessionFactory
):
    staff = {"name": "s", "kind": "census", "criteria": {"staff": True}}
    filter_id = admin.call("POST", "/filters", staff).get_json()["id"]
    batch = {"mode": "census", "filterId": filter_id, "changes": {"email": {"staff": "on"}}}
    batch_id = admin.call("POST", "/batches", batch | AS_OF).get_json()["id"]
    everyone = {"name": "s", "kind": "census", "criteria": {}}
    assert admin.call("PUT", f"/filters/{filter_id}", everyone).status_code == 200
    assert admin.call("DELETE", f"/filters/{filter_id}").status_code == 204

    drain(session_factory, [plan(batch_id)], chunk_size=10)  # the plan runs after both
    view = admin.call("GET", f"/batches/{batch_id}").get_json()
    assert (view["status"], view["filterId"]) == ("succeeded", None)
    assert view["result"]["targets"] == 2  # t1 and t2, as the filter said when submitted
