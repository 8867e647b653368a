"""The login session (web/security.py, web/pages/auth.py): the cookie's flags, the idle and
absolute limits, strong session protection, signing out, the sign-in limit per address, and
names rendered escaped. Its settings: tests/test_session_settings.py."""

import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import itsdangerous.timed
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from shared.access.signin import MAX_FAILED_LOGINS_PER_ADDRESS, authenticate, login_throttled
from shared.core.db import SessionFactory
from shared.models import Batch, User
from shared.models.base import utcnow
from tests.support.district import District
from tests.support.sessions import Clock, age_session, audit_rows, login_form
from tests.support.web import PASSWORD, add_user, csrf_token, error_of, log_in, make_app
from web.security import CHANGED_CLIENT, SIGNED_IN_AT

EXPIRED = "Your session expired 12 hours after you signed in. Please sign in again."
THROTTLED = (
    "Too many failed sign-ins for this user or from this address. "
    "Try again in a quarter of an hour."
)
SCRIPT = "<script>alert(1)</script>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"


@pytest.fixture
def app(session_factory: SessionFactory, app: Flask) -> Flask:
    add_user(session_factory, "admin", "district_admin")
    return app


# --- the cookie -----------------------------------------------------------------------------


def test_the_session_cookie_is_httponly_lax_and_lasts_the_idle_limit(client: FlaskClient):
    before = datetime.now(UTC).replace(microsecond=0)
    log_in(client)
    after = datetime.now(UTC)
    cookie = client.get_cookie("session")
    assert cookie is not None
    assert (cookie.http_only, cookie.same_site, cookie.secure) == (True, "Lax", False)
    assert cookie.expires is not None
    assert before + timedelta(minutes=30) <= cookie.expires <= after + timedelta(minutes=30)


def test_secure_cookies_mark_the_cookie_secure(session_factory: SessionFactory, tmp_path: Path):
    add_user(session_factory, "admin", "district_admin")
    app = make_app(session_factory, tmp_path, secure_cookies=True)
    client = app.test_client()
    log_in(client)
    cookie = client.get_cookie("session")
    assert cookie is not None
    assert (cookie.http_only, cookie.same_site, cookie.secure) == (True, "Lax", True)
    assert app.config["REMEMBER_COOKIE_SECURE"] is True


# --- the idle limit -------------------------------------------------------------------------


def test_a_session_ends_after_30_idle_minutes(client: FlaskClient, monkeypatch):
    clock = Clock()
    monkeypatch.setattr(itsdangerous.timed, "time", clock)
    log_in(client)
    # Each request renews the cookie: 70 minutes of use, never 30 idle ones.
    for minutes in (29, 58, 70):
        clock.ahead = timedelta(minutes=minutes)
        assert client.get("/batches/new").status_code == 200
    clock.ahead = timedelta(minutes=70 + 30, seconds=1)
    response = client.get("/batches/new")
    assert (response.status_code, response.headers["Location"]) == (
        302,
        "/login?next=%2Fbatches%2Fnew",
    )
    assert client.get("/api/v1/batches").status_code == 401


# --- the absolute limit ---------------------------------------------------------------------


def test_a_session_ends_12_hours_after_signing_in(client: FlaskClient):
    log_in(client)
    age_session(client, 12 - 1 / 60)
    assert client.get("/batches/new").status_code == 200
    age_session(client, 12 + 1 / 60)
    response = client.get("/batches/new")
    assert (response.status_code, response.headers["Location"]) == (
        302,
        "/login?next=%2Fbatches%2Fnew",
    )
    login_page = client.get(response.headers["Location"])
    assert f'<p class="notice" role="status">{EXPIRED}</p>' in login_page.text
    with client.session_transaction() as session:
        assert "_user_id" not in session and SIGNED_IN_AT not in session
    assert client.get("/batches/new").status_code == 302


def test_the_api_answers_401_when_the_session_ended(client: FlaskClient):
    log_in(client)
    age_session(client, 13)
    response = client.get("/api/v1/batches")
    assert response.status_code == 401
    assert error_of(response) == {"code": "unauthorized", "message": EXPIRED, "field": None}
    assert client.get("/batches/new").status_code == 302


def test_a_session_without_its_sign_in_time_is_ended(client: FlaskClient):
    log_in(client)
    with client.session_transaction() as session:
        del session[SIGNED_IN_AT]
    assert client.get("/batches/new").status_code == 302


# --- strong session protection --------------------------------------------------------------


@pytest.mark.parametrize(
    "elsewhere",
    [
        {"environ_overrides": {"REMOTE_ADDR": "10.9.9.9"}},
        {"headers": {"User-Agent": "another browser"}},
    ],
)
def test_a_session_used_from_another_address_or_browser_is_ended(client: FlaskClient, elsewhere):
    log_in(client)
    response = client.get("/batches/new", **elsewhere)
    assert (response.status_code, response.headers["Location"]) == (
        302,
        "/login?next=%2Fbatches%2Fnew",
    )
    assert f'<p class="notice" role="status">{CHANGED_CLIENT}</p>' in client.get("/login").text
    # Ended for the original client too.
    assert client.get("/batches/new").status_code == 302


# --- signing out ----------------------------------------------------------------------------


def test_signing_out_clears_the_session_and_is_audited(
    client: FlaskClient, session_factory: SessionFactory
):
    token = log_in(client)
    response = client.post("/logout", data={"csrf_token": token})
    assert (response.status_code, response.headers["Location"]) == (302, "/login")
    assert client.get_cookie("session") is None
    with client.session_transaction() as session:
        assert dict(session) == {}
    # The old CSRF token went with the session.
    stale = client.post(
        "/login", data={"username": "admin", "password": PASSWORD, "csrf_token": token}
    )
    assert stale.status_code == 400
    assert client.get("/batches/new").status_code == 302
    assert audit_rows(session_factory) == [
        ("admin", "login", "127.0.0.1"),
        ("admin", "logout", "127.0.0.1"),
    ]


# --- the sign-in limit per address ----------------------------------------------------------


def test_twenty_failures_from_one_address_lock_that_address(
    client: FlaskClient, session_factory: SessionFactory
):
    attacker, other = "10.0.0.66", "10.0.0.7"
    results = [
        login_form(client, f"guess{n:02d}", "wrong password", attacker)
        for n in range(MAX_FAILED_LOGINS_PER_ADDRESS)
    ]
    wrong = (401, "Wrong username or password.")
    assert results == [wrong] * MAX_FAILED_LOGINS_PER_ADDRESS
    # Even the right password, and for a user with no failures, from that address.
    assert login_form(client, "admin", PASSWORD, attacker) == (429, THROTTLED)
    assert client.get("/batches/new").status_code == 302
    # From another address the same user signs in.
    assert login_form(client, "admin", PASSWORD, other)[0] == 302
    assert audit_rows(session_factory) == [
        *[(f"guess{n:02d}", "login.failed", attacker) for n in range(20)],
        ("admin", "login.throttled", attacker),
        ("admin", "login", other),
    ]


@pytest.mark.parametrize(("hops", "recorded"), [(0, "10.9.9.9"), (1, "203.0.113.5")])
def test_the_address_behind_a_trusted_proxy(
    session_factory: SessionFactory, tmp_path: Path, hops: int, recorded: str
):
    """With CPB_PROXY_HOPS=1 the client's address is the one the proxy forwarded; without it, a
    forwarded address is ignored (anyone could send that header)."""
    add_user(session_factory, "admin", "district_admin")
    app = make_app(session_factory, tmp_path, proxy_hops=hops)
    client = app.test_client()
    token = csrf_token(client.get("/login").get_data(as_text=True))
    client.post(
        "/login",
        data={"username": "admin", "password": "wrong password", "csrf_token": token},
        headers={"X-Forwarded-For": "203.0.113.5"},
        environ_overrides={"REMOTE_ADDR": "10.9.9.9"},
    )
    assert audit_rows(session_factory) == [("admin", "login.failed", recorded)]


def test_the_address_limit_counts_a_quarter_of_an_hour(session_factory: SessionFactory):
    add_user(session_factory, "ada", "viewer")
    now = utcnow()
    with session_factory.begin() as session:
        for n in range(MAX_FAILED_LOGINS_PER_ADDRESS - 1):
            authenticate(session, f"guess{n}", "wrong", remote_addr="10.0.0.66", now=now)
        assert login_throttled(session, "ada", remote_addr="10.0.0.66", now=now) is False
        authenticate(session, "guess", "wrong", remote_addr="10.0.0.66", now=now)
        assert login_throttled(session, "ada", remote_addr="10.0.0.66", now=now) is True
        assert login_throttled(session, "ada", remote_addr="10.0.0.67", now=now) is False
        assert login_throttled(session, "ada", now=now) is False
    later = now + timedelta(minutes=15, seconds=1)
    with session_factory.begin() as session:
        assert login_throttled(session, "ada", remote_addr="10.0.0.66", now=later) is False
        user = authenticate(session, "ada", PASSWORD, remote_addr="10.0.0.66", now=later)
        assert user is not None and user.username == "ada"


# --- names rendered escaped -----------------------------------------------------------------


def test_names_are_rendered_escaped(session_factory: SessionFactory, tmp_path: Path):
    add_user(session_factory, SCRIPT, "district_admin")
    with session_factory.begin() as session:
        d = District(session)
        person = d.person("P-1")
        person.first_name = SCRIPT
        household = d.household("H-1", phone="555-0100")
        household.name = SCRIPT
        d.member(household, person)
        d.finish()
        submitter = session.scalar(select(User.id).where(User.username == SCRIPT))
        session.add(
            Batch(
                mode="student",
                school_year="2025-26",
                as_of=date(2025, 10, 15),
                changes={},
                submitted_by=submitter,
            )
        )
    client = make_app(session_factory, tmp_path).test_client()
    log_in(client, SCRIPT)
    for path in ("/people/P-1", "/batches", "/batches/1"):
        html = client.get(path).text
        assert SCRIPT not in html, path
        assert ESCAPED in html, path
    person_page = client.get("/people/P-1").text
    assert f"<h1>{ESCAPED} LP-1 (P-1)</h1>" in person_page
    history = client.get("/batches").text
    assert re.search(f"<td>[^<]+ by {re.escape(ESCAPED)}</td>", history)
    assert f'<span class="who">{ESCAPED} (district_admin)</span>' in history
