"""Who may do what, for every route of the app: anonymous callers, each role,
and a school admin inside and outside their schools. Every refusal is a 403 with its reason and
an `access.denied` entry in the audit log (a person or household outside a school admin's
schools is a 404, recorded the same way). On SQLite and PostgreSQL."""

from typing import Any

import pytest
from sqlalchemy import func, select

from shared.access.tokens import revoke_token
from shared.models import AuditEntry, Batch, Filter
from tests.support.access import Setup, call, routes, sample_requests, submit
from tests.support.access import setup as setup  # the fixture, for pytest to find here
from tests.support.web import error_of
from web.access import PUBLIC, RULES


def test_every_route_has_an_access_rule(setup: Setup):
    """A route added without a rule fails here (and is refused by the app until it has one)."""
    ruled = {(endpoint, method) for endpoint, methods in RULES.items() for method in methods}
    assert routes(setup.app) == ruled


def test_anonymous_callers_get_401_or_the_sign_in_page(setup: Setup):
    client = setup.app.test_client()
    for (endpoint, method), path in sample_requests(setup.app, setup.ids).items():
        if RULES[endpoint][method] is PUBLIC:
            continue
        response = call(client, method, path)
        if path.startswith("/api/") or path == "/metrics":  # programs', as the API
            assert response.status_code == 401, (endpoint, method)
            assert error_of(response)["code"] == "unauthorized"
        elif method == "GET" or endpoint == "imports.index":
            # The upload form checks its CSRF token in the view, after the access rules.
            assert response.status_code == 302, (endpoint, method)
            assert response.headers["Location"].startswith("/login?next=")
        else:  # a form posted without a session has no CSRF token either
            assert response.status_code == 400, (endpoint, method)


ROLE_USERS = {"district_admin": "ada", "school_admin": "north", "viewer": "vera"}


def test_a_role_outside_a_rule_gets_403_and_an_audit_entry(setup: Setup):
    expected = []
    sessions = {user: setup.signed_in(user) for user in ROLE_USERS.values()}
    for (endpoint, method), path in sample_requests(setup.app, setup.ids).items():
        roles = RULES[endpoint][method]
        if roles is PUBLIC:
            continue
        for role, user in ROLE_USERS.items():
            if role in roles:
                continue
            if path.startswith("/api/"):
                response = call(setup.api(user), method, path)
            else:
                client, token = sessions[user]
                response = call(client, method, path, data={"csrf_token": token})
            assert response.status_code == 403, (endpoint, method, role)
            expected.append((user, f"{method} {path.split('?')[0]}"))
    assert expected  # the viewer and the school admin are refused something
    assert [(who, subject) for who, subject, _ in setup.refusals()] == expected


def test_a_viewer_reads_but_changes_nothing(setup: Setup):
    api = setup.api("vera")
    assert api.get(f"/api/v1/batches/{setup.ids['s_school']}").status_code == 200
    assert api.get("/api/v1/preferences.csv").status_code == 200
    response = api.post(f"/api/v1/batches/{setup.ids['s_school']}/undo")
    assert (response.status_code, error_of(response)["message"]) == (
        403,
        "only a district admin or a school admin may do this; you are a viewer",
    )
    assert setup.refusals() == [
        (
            "vera",
            f"POST /api/v1/batches/{setup.ids['s_school']}/undo",
            {"reason": "only a district admin or a school admin may do this; you are a viewer"},
        )
    ]


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (
            {"mode": "student", "scope": {"calendarId": "CAL-S"}},
            "calendar 'CAL-S' is not at one of your schools",
        ),
        (
            {"mode": "student", "scope": {"schoolId": "S", "schoolYear": "2025-26"}},
            "school 'S' is not one of your schools",
        ),
        (
            {"mode": "studentContact", "scope": {"schoolYear": "2025-26"}},
            "a batch over the whole district needs a district admin; name your school",
        ),
        (
            {"mode": "census", "filterId": "census"},
            "a school admin may not run Census/Staff batches",
        ),
        (
            {"mode": "student", "scope": {"calendarId": "CAL-N"}, "filterId": "theirs"},
            "filter {theirs} is not one of your filters",
        ),
        (  # a preview is a batch too
            {"mode": "student", "scope": {"calendarId": "CAL-S"}, "dryRun": True},
            "calendar 'CAL-S' is not at one of your schools",
        ),
    ],
)
def test_a_school_admin_submits_only_within_their_schools(
    setup: Setup, body: dict[str, Any], reason: str
):
    with setup.factory.begin() as session:
        census = Filter(name="staff", kind="census", criteria={"staff": True})
        session.add(census)
        session.flush()
        names = {"census": census.id, "theirs": setup.ids["their_filter"]}
    if "filterId" in body:
        body = body | {"filterId": names[body["filterId"]]}
    reason = reason.format(theirs=setup.ids["their_filter"])
    response = submit(setup, body | {"asOf": "2025-10-15", "changes": {"email": {"general": "on"}}})
    assert (response.status_code, error_of(response)) == (
        403,
        {"code": "forbidden", "message": reason, "field": None},
    )
    assert setup.refusals() == [("north", "POST /api/v1/batches", {"reason": reason})]
    with setup.factory() as session:
        assert session.scalar(select(Batch.id).where(Batch.submitted_by.is_not(None))) is None


def test_a_school_admin_acts_only_on_their_schools_batches(setup: Setup):
    api = setup.api("north")
    ids = setup.ids
    refused = [
        ("GET", f"/api/v1/batches/{ids['s_school']}", ids["s_school"]),
        ("GET", f"/api/v1/batches/{ids['census']}", ids["census"]),
        ("GET", f"/api/v1/batches/{ids['s_school']}/changes.csv", ids["s_school"]),
        ("POST", f"/api/v1/batches/{ids['s_school']}/undo", ids["s_school"]),
        ("POST", f"/api/v1/batches/{ids['s_running']}/cancel", ids["s_running"]),
        ("POST", f"/api/v1/batches/{ids['s_preview']}/apply", ids["s_preview"]),
    ]
    for method, path, batch_id in refused:
        response = call(api, method, path)
        assert (response.status_code, error_of(response)["message"]) == (
            403,
            f"batch {batch_id} is not within your schools",
        ), path
    allowed = [
        ("GET", f"/api/v1/batches/{ids['n_calendar']}", 200),
        ("GET", f"/api/v1/batches/{ids['n_school']}/changes.csv", 200),
        ("POST", f"/api/v1/batches/{ids['n_school']}/undo", 202),
        ("POST", f"/api/v1/batches/{ids['n_preview']}/apply", 202),
    ]
    made = []
    for method, path, status in allowed:
        response = call(api, method, path)
        assert response.status_code == status, path
        if status == 202:
            made.append(response.get_json()["id"])
    # theirs: the two at N, the preview at N, and the undo and the applied preview just made
    listed = api.get("/api/v1/batches").get_json()
    assert sorted(item["id"] for item in listed["items"]) == sorted(
        [ids["n_calendar"], ids["n_school"], ids["n_preview"], *made]
    )
    assert (len(made), listed["total"]) == (2, 5)
    assert [subject for _, subject, _ in setup.refusals()] == [
        f"{method} {path}" for method, path, _ in refused
    ]
    # the history page lists the same batches; another school's batch page is refused
    client, _ = setup.signed_in("north")
    assert client.get(f"/batches/{ids['s_school']}").status_code == 403
    assert client.get(f"/batches/{ids['n_school']}").status_code == 200


def test_a_school_admin_sees_only_their_filters(setup: Setup):
    listed = setup.api("north").get("/api/v1/filters")
    assert [item["name"] for item in listed.get_json()["items"]] == ["mine"]
    everyone = setup.api("ada").get("/api/v1/filters")
    assert [item["name"] for item in everyone.get_json()["items"]] == ["mine", "theirs"]
    client, _ = setup.signed_in("north")
    wizard = client.get("/batches/new").get_data(as_text=True)
    assert ">mine</option>" in wizard and ">theirs</option>" not in wizard
    assert 'value="census"' not in wizard  # no Census/Staff mode for a school admin
    assert 'value="S"' not in wizard and 'value="N"' in wizard


def test_a_school_admin_reaches_only_the_people_of_their_schools(setup: Setup):
    api = setup.api("north")
    edit = {"setBy": "staff", "changes": {"email": {"general": "on"}}}
    household = {"setBy": "staff", "changes": {"householdPhone": {"general": "on"}}}
    for person in ("n1", "g1"):  # a student at N, and that student's contact
        assert api.get(f"/api/v1/people/{person}/preferences").status_code == 200
    assert api.patch("/api/v1/people/g1/preferences", json=edit).status_code == 200
    assert api.patch("/api/v1/households/h1/preferences", json=household).status_code == 200
    # answered as ids that do not exist (tests/test_access_hidden_ids.py)
    refused = [
        ("GET", "/api/v1/people/s1/preferences", None, "no person 's1'"),
        ("GET", "/api/v1/people/g2/preferences", None, "no person 'g2'"),
        ("PATCH", "/api/v1/people/g2/preferences", edit, "no person 'g2'"),
        ("PATCH", "/api/v1/households/h2/preferences", household, "no household 'h2'"),
    ]
    for method, path, body, message in refused:
        response = call(api, method, path, json=body)
        assert (response.status_code, error_of(response)["message"]) == (404, message), path
    client, token = setup.signed_in("north")
    found = client.get("/people?q=1").get_data(as_text=True)  # n1, g1, s1 all match "1"
    assert 'href="/people/n1"' in found and 'href="/people/g1"' in found
    assert 'href="/people/s1"' not in found
    assert client.get("/people/s1").status_code == 404
    assert (
        client.post("/people/s1", data={"csrf_token": token, "setBy": "staff"}).status_code == 404
    )
    assert client.post("/people/g2/households/h2", data={"csrf_token": token}).status_code == 404
    # the whole district's export is not a school admin's
    assert api.get("/api/v1/preferences.csv").status_code == 403


def test_a_revoked_token_is_refused_and_recorded(setup: Setup):
    api = setup.api("vera")
    assert api.get("/api/v1/batches").status_code == 200
    with setup.factory.begin() as session:
        revoke_token(session, 3, by="ada")  # vera's
    response = api.get("/api/v1/batches")
    assert (response.status_code, error_of(response)["message"]) == (
        401,
        "unknown or revoked token",
    )
    with setup.factory() as session:
        rows = session.execute(
            select(AuditEntry.action, AuditEntry.username, AuditEntry.detail)
            .where(AuditEntry.action.in_(("token.use", "token.revoke", "token.refused")))
            .order_by(AuditEntry.id)
        ).all()
    assert [tuple(row) for row in rows] == [
        ("token.use", "vera", {"tokenId": 3, "request": "GET /api/v1/batches"}),
        ("token.revoke", "ada", {"tokenId": 3}),
        (
            "token.refused",
            "vera",
            {"request": "GET /api/v1/batches", "reason": "revoked token", "tokenId": 3},
        ),
    ]


def test_token_use_is_recorded_once_an_hour(setup: Setup):
    api = setup.api("ada")
    for _ in range(3):
        assert api.get("/api/v1/batches").status_code == 200
    with setup.factory() as session:
        uses = session.scalars(
            select(AuditEntry.username).where(AuditEntry.action == "token.use")
        ).all()
    assert uses == ["ada"]


def test_a_session_caller_needs_the_csrf_token_on_the_api(setup: Setup):
    client, token = setup.signed_in("ada")
    path = f"/api/v1/batches/{setup.ids['n_school']}/undo"
    refused = client.post(path)
    assert (refused.status_code, error_of(refused)["code"]) == (400, "csrf_failed")
    assert client.post(path, headers={"X-CSRFToken": token}).status_code == 202


def test_every_unsafe_request_without_its_csrf_token_is_400(setup: Setup):
    """Signed in as a district admin (allowed everything), every POST, PUT, PATCH and DELETE of
    the pages and of the API (by session) without the CSRF token is refused and changes nothing."""
    client, _ = setup.signed_in("ada")
    unsafe = [
        (endpoint, method, path)
        for (endpoint, method), path in sample_requests(setup.app, setup.ids).items()
        if method != "GET" and RULES[endpoint][method] is not PUBLIC
    ]
    assert len(unsafe) >= 15
    with setup.factory() as session:
        before = session.scalar(select(func.count()).select_from(Batch))
    for endpoint, method, path in unsafe:
        response = call(client, method, path, json={} if path.startswith("/api/") else None)
        assert response.status_code == 400, (endpoint, method)
        if path.startswith("/api/"):
            assert error_of(response)["code"] == "csrf_failed"
    with setup.factory() as session:
        assert session.scalar(select(func.count()).select_from(Batch)) == before
