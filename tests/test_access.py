"""Who may do what, for every route of the app: anonymous callers, each role,
and a school admin inside and outside their schools. Every refusal is a 403 with its reason and
an `access.denied` entry in the audit log. On SQLite and PostgreSQL."""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from shared.access.tokens import create_token, revoke_token
from shared.access.users import create_user
from shared.core.db import SessionFactory
from shared.core.vocabulary import CHANNELS, REASONS
from shared.models import AuditEntry, Batch, BatchChunk, Filter
from tests.support.district import District
from tests.support.web import PASSWORD, EnqueueRecorder, csrf_token, error_of, make_app
from web.access import PUBLIC, RULES

AS_OF = date(2025, 10, 15)
NO_CHANGE = {channel: dict.fromkeys(REASONS, "noChange") for channel in CHANNELS}
NOTHING_COUNTED = {channel: dict.fromkeys(REASONS) for channel in CHANNELS}


@dataclass
class Setup:
    app: Flask
    factory: SessionFactory
    tokens: dict[str, str]
    ids: dict[str, int]

    def api(self, username: str) -> FlaskClient:
        """A client whose requests carry the user's bearer token."""
        client = self.app.test_client()
        client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {self.tokens[username]}"
        return client

    def signed_in(self, username: str) -> tuple[FlaskClient, str]:
        client = self.app.test_client()
        token = csrf_token(client.get("/login").get_data(as_text=True))
        response = client.post(
            "/login", data={"username": username, "password": PASSWORD, "csrf_token": token}
        )
        assert response.status_code == 302
        return client, token

    def refusals(self) -> list[tuple[str | None, str | None, Any]]:
        with self.factory() as session:
            rows = session.execute(
                select(AuditEntry.username, AuditEntry.subject, AuditEntry.detail)
                .where(AuditEntry.action == "access.denied")
                .order_by(AuditEntry.id)
            )
            return [tuple(row) for row in rows]


@pytest.fixture
def setup(session_factory: SessionFactory, tmp_path: Path) -> Iterator[Setup]:
    """Schools N and S. `north` is the school admin of N, `ada` a district admin, `vera` a viewer.
    People: n1 (a student at N) with contact g1 and household h1; s1 (at S) with contact g2 and
    household h2. Finished batches at N (by calendar and by school) and at S, a running one at S,
    a census batch; a filter of north's and one of ada's."""
    with session_factory.begin() as session:
        d = District(session)
        north, south = d.school("N"), d.school("S")
        cal_n, cal_s = d.calendar("CAL-N", north), d.calendar("CAL-S", south)
        n1, s1 = d.person("n1", email="n1@x"), d.person("s1", email="s1@x")
        d.enroll(n1, cal_n)
        d.enroll(s1, cal_s)
        g1, g2 = d.person("g1", email="g1@x"), d.person("g2", email="g2@x")
        d.relate(n1, g1)
        d.relate(s1, g2)
        d.member(d.household("h1", phone="100"), g1)
        d.member(d.household("h2", phone="200"), g2)
        d.finish()
        create_user(session, "ada", "district_admin", PASSWORD, [])
        north_admin = create_user(session, "north", "school_admin", PASSWORD, ["N"])
        create_user(session, "vera", "viewer", PASSWORD, [])
        own = Filter(name="mine", kind="student", criteria={}, owner_id=north_admin.id)
        theirs = Filter(name="theirs", kind="student", criteria={}, owner_id=None)
        session.add_all([own, theirs])
        session.flush()
        ids = {
            "own_filter": own.id,
            "their_filter": theirs.id,
            "n_calendar": _batch(session, calendar="CAL-N"),
            "n_school": _batch(session, school="N", year="2025-26"),
            "s_school": _batch(session, school="S", year="2025-26"),
            "s_running": _batch(session, calendar="CAL-S", status="running"),
            "census": _batch(session, mode="census"),
            "n_preview": _batch(session, calendar="CAL-N", dry_run=True),
            "s_preview": _batch(session, calendar="CAL-S", dry_run=True),
        }
        tokens = {user: create_token(session, user) for user in ("ada", "north", "vera")}
    app = make_app(session_factory, tmp_path, EnqueueRecorder())
    yield Setup(app, session_factory, tokens, ids)


def _batch(
    session: Any,
    *,
    calendar: str | None = None,
    school: str | None = None,
    year: str | None = None,
    mode: str = "student",
    status: str = "succeeded",
    dry_run: bool = False,
) -> int:
    batch = Batch(
        kind="batch",
        status=status,
        mode=mode,
        school_year=year,
        school_ext_id=school,
        calendar_ext_id=calendar,
        as_of=AS_OF,
        changes=NO_CHANGE,
        dry_run=dry_run,
        errors=[],
        counts=None if status == "running" else NOTHING_COUNTED,
        kept=None if status == "running" else NOTHING_COUNTED,
        planned=True,
        chunks_total=1,
        targets=0,
        submitted_at=datetime(2025, 10, 15, 8, tzinfo=UTC),
        finished_at=None if status == "running" else datetime(2025, 10, 15, 9, tzinfo=UTC),
    )
    session.add(batch)
    session.flush()
    session.add(BatchChunk(batch_id=batch.id, chunk_no=0, done=status != "running"))
    return batch.id


def sample_requests(app: Flask, ids: dict[str, int]) -> dict[tuple[str, str], str]:
    """One request per (endpoint, method) of the app, its path parameters filled with things
    that exist: a finished batch at N (a running one to cancel, a preview to apply), the person
    n1 (g1 for a household of theirs), the user vera, token 1."""
    batches = {"cancel": ids["s_running"], "apply": ids["n_preview"]}
    adapter = app.url_map.bind("localhost")
    requests = {}
    for rule in app.url_map.iter_rules():
        action = rule.endpoint.rsplit(".", 1)[-1].removesuffix("_batch")
        values = {
            "batch_id": batches.get(action, ids["n_calendar"]),
            "person_id": "g1" if "household_id" in rule.arguments else "n1",
            "household_id": "h1",
            "username": "vera",
            "token_id": 1,
            "filename": "style.css",
            "filter_id": ids["own_filter"],
        }
        path = adapter.build(rule.endpoint, {k: values[k] for k in rule.arguments})
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}:
            requests[(rule.endpoint, method)] = path
    return requests


def routes(app: Flask) -> set[tuple[str, str]]:
    return {
        (rule.endpoint, method)
        for rule in app.url_map.iter_rules()
        for method in rule.methods or ()
        if method not in ("HEAD", "OPTIONS")
    }


def test_every_route_has_an_access_rule(setup: Setup):
    """A route added without a rule fails here (and is refused by the app until it has one)."""
    ruled = {(endpoint, method) for endpoint, methods in RULES.items() for method in methods}
    assert routes(setup.app) == ruled


def call(client: FlaskClient, method: str, path: str, **kwargs: Any) -> Any:
    return client.open(path, method=method, **kwargs)


def test_anonymous_callers_get_401_or_the_sign_in_page(setup: Setup):
    client = setup.app.test_client()
    for (endpoint, method), path in sample_requests(setup.app, setup.ids).items():
        if RULES[endpoint][method] is PUBLIC:
            continue
        response = call(client, method, path)
        if path.startswith("/api/"):
            assert response.status_code == 401, (endpoint, method)
            assert error_of(response)["code"] == "unauthorized"
        elif method == "GET":
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


def submit(setup: Setup, body: dict[str, Any]) -> Any:
    return setup.api("north").post("/api/v1/batches", json=body)


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


def test_a_school_admin_submits_within_their_schools(setup: Setup):
    changes = {"email": {"general": "on"}}
    for scope in ({"calendarId": "CAL-N"}, {"schoolId": "N", "schoolYear": "2025-26"}):
        body = {"mode": "studentContact", "scope": scope, "changes": changes}
        assert submit(setup, body).status_code == 202
    own = {"mode": "student", "scope": {"calendarId": "CAL-N"}, "filterId": setup.ids["own_filter"]}
    assert submit(setup, own | {"changes": changes, "dryRun": True}).status_code == 202
    assert setup.refusals() == []


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
    refused = [
        ("GET", "/api/v1/people/s1/preferences", None, "person s1 is not in your schools"),
        ("GET", "/api/v1/people/g2/preferences", None, "person g2 is not in your schools"),
        ("PATCH", "/api/v1/people/g2/preferences", edit, "person g2 is not in your schools"),
        (
            "PATCH",
            "/api/v1/households/h2/preferences",
            household,
            "household h2 is not in your schools",
        ),
    ]
    for method, path, body, message in refused:
        response = call(api, method, path, json=body)
        assert (response.status_code, error_of(response)["message"]) == (403, message), path
    client, token = setup.signed_in("north")
    found = client.get("/people?q=1").get_data(as_text=True)  # n1, g1, s1 all match "1"
    assert 'href="/people/n1"' in found and 'href="/people/g1"' in found
    assert 'href="/people/s1"' not in found
    assert client.get("/people/s1").status_code == 403
    assert (
        client.post("/people/s1", data={"csrf_token": token, "setBy": "staff"}).status_code == 403
    )
    assert client.post("/people/g2/households/h2", data={"csrf_token": token}).status_code == 403
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


def test_the_wizard_shows_a_school_admin_why_a_batch_was_refused(setup: Setup):
    client, token = setup.signed_in("north")
    form = {
        "csrf_token": token,
        "mode": "student",
        "schoolYear": "2025-26",
        "asOf": "2025-10-15",
        "changes.email.general": "on",
        "action": "apply",
    }
    response = client.post("/batches/new", data=form)
    reason = "a batch over the whole district needs a district admin; name your school"
    assert response.status_code == 403
    html = response.get_data(as_text=True)
    assert "The batch was not submitted" in html and reason in html
    assert 'id="wizard"' in html  # the form again, with the choices kept
    assert setup.refusals() == [("north", "POST /batches/new", {"reason": reason})]
