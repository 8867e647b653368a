"""The audit log: its page and its API, newest first, filtered and paginated, for district
admins only; on SQLite and PostgreSQL."""

import pytest

from shared.access.audit import ACTIONS, list_audit, record_audit
from tests.support.audit_log import Setup, stamp
from tests.support.audit_log import setup as setup  # the fixture, for pytest to find here
from tests.support.web import Page, error_of, log_in
from web.pages.audit import ACTION_LABELS, detail_text

HEAD = ["When", "Who", "Action", "Subject", "Detail"]


def row(minute: int, who: str, action: str, subject: str, detail: str) -> list[str]:
    return [f"2025-10-15 08:{minute:02d}:00 UTC", who, action, subject, detail]


# Newest first; entries 1-7 are the fixture's users, tokens and sign-in.
ROWS = [
    row(11, "system", "CSV import", "/data/bundle", 'people: 3; new: {"households":1}'),
    row(10, "admin", "some.unknown", "<script>alert(1)</script>", "note: <b>hi</b>"),
    row(9, "mallory", "Failed sign-in", "mallory", ""),
    row(8, "admin", "Batch submitted", "batch:12", "mode: student; dryRun: false"),
    row(7, "admin", "Sign-in", "admin", "remoteAddr: 127.0.0.1"),
    row(6, "system", "API token created", "vera", "tokenId: 3"),
    row(5, "system", "API token created", "sam", "tokenId: 2"),
    row(4, "system", "API token created", "admin", "tokenId: 1"),
    row(3, "system", "User created", "vera", "role: viewer; schoolIds: []"),
    row(2, "system", "User created", "sam", 'role: school_admin; schoolIds: ["S-1"]'),
    row(1, "system", "User created", "admin", "role: district_admin; schoolIds: []"),
]


def test_every_known_action_has_a_label():
    assert set(ACTION_LABELS) == set(ACTIONS)


def test_the_page_lists_entries_newest_first(setup: Setup):
    status, html = setup.page()

    assert status == 200
    assert Page(html).tables["audit"] == [HEAD, *ROWS]
    assert "11 entries, newest first" in html
    assert '<a href="/batches/12">batch:12</a>' in html
    assert "Page 1 of 1" in html
    assert Page(html).options("action") == [("", "Any"), *((a, ACTION_LABELS[a]) for a in ACTIONS)]


def test_subjects_and_details_are_escaped(setup: Setup):
    _, html = setup.page()

    assert "<script>alert" not in html and "<b>hi" not in html
    assert "<td>&lt;script&gt;alert(1)&lt;/script&gt;</td>" in html
    assert "<td>note: &lt;b&gt;hi&lt;/b&gt;</td>" in html


def test_the_page_filters_by_action_and_user(setup: Setup):
    _, by_action = setup.page("?action=token.create")
    _, by_user = setup.page("?username=admin")
    _, by_both = setup.page("?action=login&username=admin")
    _, none = setup.page("?username=nobody")

    assert Page(by_action).tables["audit"][1:] == ROWS[5:8]
    assert Page(by_action).selected("action") == "token.create"
    assert Page(by_user).tables["audit"][1:] == [ROWS[1], ROWS[3], ROWS[4]]
    assert Page(by_both).tables["audit"][1:] == [ROWS[4]]
    assert Page(by_both).inputs["username"]["value"] == "admin"
    assert "No entries match." in none
    assert "audit" not in Page(none).tables


def test_the_page_refuses_an_unknown_action(setup: Setup):
    status, html = setup.page("?action=batch.delete")

    assert status == 400
    assert "<code>action</code>: must be one of batch.submit, batch.preview" in html


def test_the_page_is_paginated_by_fifty(setup: Setup):
    with setup.factory.begin() as session:
        for n in range(55):
            record_audit(session, username=f"u{n}", action="login.failed", subject=f"u{n}")
    stamp(setup.factory)

    _, first = setup.page("?action=login.failed")
    _, second = setup.page("?action=login.failed&page=2")

    first_rows = Page(first).tables["audit"][1:]
    second_rows = Page(second).tables["audit"][1:]
    assert (len(first_rows), len(second_rows)) == (50, 6)
    assert [row[1] for row in first_rows[:2]] == ["u54", "u53"]
    assert [row[1] for row in second_rows] == ["u4", "u3", "u2", "u1", "u0", "mallory"]
    assert "56 entries, newest first" in first
    assert '<a href="/audit?page=2&amp;action=login.failed" rel="next">Older</a>' in first
    assert '<a href="/audit?page=1&amp;action=login.failed" rel="prev">Newer</a>' in second
    assert "Page 2 of 2" in second and 'rel="next"' not in second


@pytest.mark.parametrize("username", ["sam", "vera"])
def test_only_a_district_admin_sees_the_page(setup: Setup, username: str):
    role = {"sam": "a school admin", "vera": "a viewer"}[username]
    client = setup.app.test_client()
    log_in(client, username)

    response = client.get("/audit")
    home = client.get("/batches").get_data(as_text=True)

    assert response.status_code == 403
    assert f"only a district admin may do this; you are {role}" in response.get_data(as_text=True)
    assert 'href="/audit"' not in home


def test_the_nav_links_the_audit_log_for_a_district_admin(setup: Setup):
    history = setup.admin.get("/batches").get_data(as_text=True)
    audit = setup.admin.get("/audit").get_data(as_text=True)

    assert '<li><a href="/audit">Audit log</a></li>' in history
    assert '<li><a href="/audit" aria-current="page">Audit log</a></li>' in audit


def test_signing_in_is_needed(setup: Setup):
    response = setup.app.test_client().get("/audit")
    assert (response.status_code, response.location) == (302, "/login?next=%2Faudit")


def test_detail_text():
    assert detail_text(None) == ""
    assert detail_text({}) == ""
    assert detail_text({"a": "x y", "b": None, "c": [1, "é"], "d": True}) == (
        'a: x y; b: null; c: [1,"é"]; d: true'
    )


# --- the service ---------------------------------------------------------------------------


def test_list_audit_pages_newest_first(setup: Setup):
    with setup.factory() as session:
        entries, total = list_audit(session, page=3, per_page=5)
    assert ([entry.id for entry in entries], total) == ([1], 11)


# --- the API -------------------------------------------------------------------------------


def test_the_api_lists_entries_newest_first(setup: Setup):
    response = setup.api("?perPage=3")

    assert response.status_code == 200
    assert response.get_json() == {
        "items": [
            {
                "id": 11,
                "at": "2025-10-15T08:11:00+00:00",
                "username": None,
                "action": "import.csv",
                "subject": "/data/bundle",
                "detail": {"people": 3, "new": {"households": 1}},
                "remoteAddr": None,
                "times": 1,
            },
            {
                "id": 10,
                "at": "2025-10-15T08:10:00+00:00",
                "username": "admin",
                "action": "some.unknown",
                "subject": "<script>alert(1)</script>",
                "detail": {"note": "<b>hi</b>"},
                "remoteAddr": None,
                "times": 1,
            },
            {
                "id": 9,
                "at": "2025-10-15T08:09:00+00:00",
                "username": "mallory",
                "action": "login.failed",
                "subject": "mallory",
                "detail": None,
                "remoteAddr": None,
                "times": 1,
            },
        ],
        "page": 1,
        "perPage": 3,
        "total": 11,
    }


def test_the_api_filters_and_pages(setup: Setup):
    body = setup.api("?action=user.create&page=2&perPage=2").get_json()
    by_user = setup.api("?username=admin").get_json()

    assert ([item["subject"] for item in body["items"]], body["total"]) == (["admin"], 3)
    assert (body["page"], body["perPage"]) == (2, 2)
    assert [item["id"] for item in by_user["items"]] == [10, 8, 7]
    assert (by_user["perPage"], by_user["total"]) == (50, 3)


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("?action=nope", "action", "must be one of " + ", ".join(ACTIONS)),
        ("?page=0", "page", "must be a whole number of at least 1; got '0'"),
        ("?perPage=201", "perPage", "must be at most 200; got 201"),
    ],
)
def test_the_api_refuses_bad_parameters(setup: Setup, query: str, field: str, message: str):
    response = setup.api(query)
    assert (response.status_code, error_of(response)) == (
        400,
        {"code": "invalid", "message": message, "field": field},
    )


@pytest.mark.parametrize(("username", "role"), [("sam", "a school admin"), ("vera", "a viewer")])
def test_the_api_is_for_district_admins_only(setup: Setup, username: str, role: str):
    response = setup.api("", username)
    assert (response.status_code, error_of(response)) == (
        403,
        {
            "code": "forbidden",
            "message": f"only a district admin may do this; you are {role}",
            "field": None,
        },
    )


def test_the_api_needs_credentials(setup: Setup):
    response = setup.app.test_client().get("/api/v1/audit")
    assert response.status_code == 401


def test_the_audit_entry_schema_matches_a_real_response(setup: Setup):
    pytest.importorskip("openapi_schema_validator")
    from openapi_schema_validator import OAS31Validator

    from web.api.openapi import openapi_document

    document = openapi_document()
    schema = {"$ref": "#/components/schemas/AuditList", "components": document["components"]}
    errors = [e.message for e in OAS31Validator(schema).iter_errors(setup.api("").get_json())]
    assert errors == []
