"""The JSON API's filters: one created (and audited) and listed, and a bad one refused."""

from sqlalchemy import select

from shared.core.db import SessionFactory
from shared.models import AuditEntry
from tests.support.web import error_of
from tests.support.web_api import Api
from tests.support.web_api import api as api  # the fixture, for pytest to find here


def test_filters_create_and_list(
    api: Api, web_district: dict[str, int], session_factory: SessionFactory
):
    body = {"name": "teachers", "kind": "census", "criteria": {"staff": True}}
    created = api.post("/api/v1/filters", body)
    assert created.status_code == 201
    assert created.get_json() == {
        "id": 3,
        "name": "teachers",
        "kind": "census",
        "criteria": {"staff": True},
    }
    listed = api.get("/api/v1/filters").get_json()
    assert [(f["id"], f["name"], f["kind"]) for f in listed["items"]] == [
        (1, "grades 9-10", "student"),
        (2, "staff", "census"),
        (3, "teachers", "census"),
    ]
    with session_factory() as session:
        audit = session.execute(
            select(
                AuditEntry.username, AuditEntry.action, AuditEntry.subject, AuditEntry.detail
            ).where(AuditEntry.action == "filter.create")
        ).all()
    assert audit == [("admin", "filter.create", "filter:3", {"name": "teachers", "kind": "census"})]


def test_a_bad_filter_is_400(api: Api):
    response = api.post("/api/v1/filters", {"name": " ", "kind": "census", "criteria": {}})
    assert response.status_code == 400
    assert error_of(response) == {
        "code": "invalid",
        "message": "a filter needs a name",
        "field": "name",
    }
    assert api.get("/api/v1/filters").get_json()["items"][-1]["name"] == "staff"
    assert error_of(api.post("/api/v1/filters", data=b"{")) == {
        "code": "invalid",
        "message": "the body is not valid JSON",
        "field": "body",
    }
