"""Every response carries the security headers (web/security.py): every route of the app with
each of its methods, signed in as a district admin and anonymous, the error pages and the static
files; and no page holds anything the Content-Security-Policy would block."""

import io
import zipfile
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from shared.core.db import SessionFactory
from shared.imports.native.formats import PEOPLE
from tests.support.district import District
from tests.support.web import (
    YEAR_BATCH,
    add_district,
    add_token,
    add_user,
    app_with_a_failing_route,
    csrf_token,
    log_in,
    make_app,
)

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
STATIC_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
    "Cache-Control": "no-cache",  # Flask's own for static files: revalidate, but may be kept
    "Strict-Transport-Security": None,
}
HEADERS = STATIC_HEADERS | {"Cache-Control": "no-store"}
HSTS = "max-age=31536000"
# Sent last: it ends the session the other requests use.
LAST = ("auth.logout", "POST")


def security_headers(response: TestResponse) -> dict[str, str | None]:
    return {name: response.headers.get(name) for name in HEADERS}


class CspViolations(HTMLParser):
    """What a strict CSP blocks in a page: inline scripts and styles, event handler and style
    attributes, `javascript:` URLs, and scripts from elsewhere."""

    URL_ATTRIBUTES = ("href", "src", "action", "formaction")

    def __init__(self, html: str) -> None:
        super().__init__()
        self.found: list[str] = []
        self._script = False
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name.startswith("on"):
                self.found.append(f"<{tag} {name}=...>")
            elif name == "style":
                self.found.append(f"<{tag} style=...>")
            elif name in self.URL_ATTRIBUTES and (value or "").strip().lower().startswith(
                "javascript:"
            ):
                self.found.append(f"<{tag} {name}={value}>")
        if tag == "style":
            self.found.append("<style>")
        if tag == "script":
            src = dict(attrs).get("src")
            if not src:
                self.found.append("<script> without src")
            elif not src.startswith("/") or src.startswith("//"):
                self.found.append(f"<script src={src}> from elsewhere")
            self._script = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._script = False

    def handle_data(self, data: str) -> None:
        if self._script and data.strip():
            self.found.append(f"<script> body {data.strip()[:40]!r}")


def csp_violations(response: TestResponse) -> list[str]:
    if response.mimetype != "text/html":
        return []
    return CspViolations(response.get_data(as_text=True)).found


@pytest.fixture
def session_factory(sqlite_session_factory: SessionFactory) -> SessionFactory:
    """On SQLite only: the headers do not depend on the database."""
    return sqlite_session_factory


@pytest.fixture
def factory(sqlite_session_factory: SessionFactory) -> SessionFactory:
    """`admin`, the viewer `vera` with a token, and add_district's small district, with person
    P-1 in household H-1."""
    add_user(sqlite_session_factory, "admin", "district_admin")
    add_user(sqlite_session_factory, "vera", "viewer")
    add_token(sqlite_session_factory, "vera")
    add_district(sqlite_session_factory)
    with sqlite_session_factory.begin() as session:
        d = District(session)
        person = d.person("P-1", email="p1@example.org")
        d.member(d.household("H-1", phone="555-0100"), person)
        d.prefer(person, "email", ["emergency"])
        d.finish()
    return sqlite_session_factory


@pytest.fixture
def app(factory: SessionFactory, app: Flask) -> Flask:
    """The shared app, after `factory`'s data."""
    return app


def path_values(client: FlaskClient, csrf: str) -> dict[str, Any]:
    """A value for each path parameter of the app's routes: ids that exist."""
    submitted = client.post("/api/v1/batches", json=YEAR_BATCH, headers={"X-CSRFToken": csrf})
    assert submitted.status_code == 202, submitted.get_json()
    saved = client.post(
        "/api/v1/filters",
        json={"name": "teachers", "kind": "census", "criteria": {"staff": True}},
        headers={"X-CSRFToken": csrf},
    )
    assert saved.status_code == 201, saved.get_json()
    schedule = client.post(
        "/api/v1/schedules",
        json={"name": "reset", "template": YEAR_BATCH, "rule": {"cron": "0 2 1 8 *"}},
        headers={"X-CSRFToken": csrf},
    )
    assert schedule.status_code == 201, schedule.get_json()
    bundle = io.BytesIO()
    with zipfile.ZipFile(bundle, "w") as archive:
        archive.writestr("people.csv", ",".join(PEOPLE.columns) + "\n")
    imported = client.post(
        "/api/v1/imports",
        data={"format": "native", "file": (io.BytesIO(bundle.getvalue()), "bundle.zip")},
        headers={"X-CSRFToken": csrf},
    )
    assert imported.status_code == 202, imported.get_json()
    return {
        "batch_id": submitted.get_json()["id"],
        "filter_id": saved.get_json()["id"],
        "schedule_id": schedule.get_json()["id"],
        "person_id": "P-1",
        "household_id": "H-1",
        "filename": "style.css",
        "username": "vera",  # not the admin, whose session the requests use
        "token_id": 1,
        "import_id": imported.get_json()["id"],
    }


def every_route(
    app: Flask, client: FlaskClient, values: dict[str, Any], csrf: str
) -> dict[tuple[str, str], TestResponse]:
    """One response per route and method (HEAD and OPTIONS aside), the logout last."""
    calls = []
    for rule in app.url_map.iter_rules():
        missing = rule.arguments - set(values)
        assert not missing, f"{rule.rule}: no value for {sorted(missing)}"
        path = rule.build({name: values[name] for name in rule.arguments})[1]
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            calls.append((rule.endpoint, method, path))
    calls.sort(key=lambda call: (call[0], call[1]) == LAST)
    responses = {}
    for _, method, path in calls:
        response = send(client, method, path, csrf)
        response.close()
        responses[(method, path)] = response
    return responses


def send(client: FlaskClient, method: str, path: str, csrf: str) -> TestResponse:
    """A GET, or an empty form or JSON body with the CSRF token."""
    if method == "GET":
        return client.get(path)
    if path.startswith("/api/"):
        return client.open(path, method=method, json={}, headers={"X-CSRFToken": csrf})
    return client.open(path, method=method, data={"csrf_token": csrf})


def expected(path: str) -> dict[str, str | None]:
    return STATIC_HEADERS if path.startswith("/static/") else HEADERS


def test_every_route_signed_in_carries_the_headers(app: Flask):
    client = app.test_client()
    csrf = log_in(client)
    responses = every_route(app, client, path_values(client, csrf), csrf)

    assert {key: security_headers(r) for key, r in responses.items()} == {
        key: expected(key[1]) for key in responses
    }
    assert {key: csp_violations(r) for key, r in responses.items()} == dict.fromkeys(responses, [])
    # Each route answered for itself: a district admin is refused nothing.
    refused = {key: r.status_code for key, r in responses.items() if r.status_code in (401, 403)}
    assert refused == {}


def test_every_route_anonymous_carries_the_headers(app: Flask):
    signed_in = app.test_client()
    values = path_values(signed_in, log_in(signed_in))
    client = app.test_client()
    responses = every_route(app, client, values, csrf_token(client.get("/login").text))

    assert {key: security_headers(r) for key, r in responses.items()} == {
        key: expected(key[1]) for key in responses
    }
    assert {key: csp_violations(r) for key, r in responses.items()} == dict.fromkeys(responses, [])
    answered = {
        key: r.status_code for key, r in responses.items() if r.status_code not in (302, 401)
    }
    assert answered == {
        ("GET", "/static/style.css"): 200,
        ("GET", "/login"): 200,
        ("GET", "/api/v1/health"): 200,
        ("GET", "/api/v1/health/live"): 200,
        ("GET", "/api/v1/health/ready"): 503,  # no worker answers
    }


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/no/such/page", 404),
        ("GET", "/api/v1/no/such/thing", 404),
        ("GET", "/batches/999", 404),
        ("GET", "/api/v1/batches/999", 404),
        ("GET", "/batches?status=bogus", 400),
        ("GET", "/api/v1/batches?page=0", 400),
        ("POST", "/batches/new", 400),  # no CSRF token
        ("GET", "/logout", 405),
        ("GET", "/static/no-such-file.css", 404),
    ],
)
def test_error_pages_carry_the_headers(app: Flask, method: str, path: str, status: int):
    client = app.test_client()
    log_in(client)
    response = client.open(path, method=method)
    assert response.status_code == status
    assert security_headers(response) == (
        # a file missing under /static/ is still the static route's answer
        HEADERS | {"Cache-Control": None} if path.startswith("/static/") else HEADERS
    )
    assert csp_violations(response) == []


def test_an_unexpected_error_carries_the_headers(
    factory: SessionFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    app = app_with_a_failing_route(factory, tmp_path, "/boom", monkeypatch)
    response = app.test_client().get("/boom")
    assert response.status_code == 500
    assert security_headers(response) == HEADERS


def test_static_files_may_be_cached(app: Flask):
    client = app.test_client()
    for name in ("style.css", "wizard.js", "batch.js"):
        response = client.get(f"/static/{name}")
        assert (response.status_code, security_headers(response)) == (200, STATIC_HEADERS)
        response.close()


def test_secure_cookies_add_hsts_everywhere(factory: SessionFactory, tmp_path: Path):
    app = make_app(factory, tmp_path, secure_cookies=True)
    client = app.test_client()
    csrf = log_in(client)
    responses = {
        path: client.get(path)
        for path in ("/login", "/batches", "/api/v1/health", "/no/such/page", "/static/style.css")
    }
    responses["/logout"] = client.post("/logout", data={"csrf_token": csrf})
    for response in responses.values():
        response.close()
    assert {path: security_headers(r) for path, r in responses.items()} == {
        path: expected(path) | {"Strict-Transport-Security": HSTS} for path in responses
    }
