"""The sign-in limits against an attacker (shared/access/signin.py), on both databases: a burst of
wrong passwords sent at once is judged one at a time; a stranger cannot lock a user out at
the addresses they sign in from; throttled sign-ins are counted in one audit entry, not a row
each. The same burst through gunicorn's processes: tests/test_signin_burst.py."""

import threading
from collections import Counter
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from shared.access.audit import record_audit
from shared.access.signin import (
    MAX_FAILED_LOGINS,
    MAX_FAILED_LOGINS_PER_USER,
    authenticate,
    login_throttled,
)
from shared.core.db import SessionFactory
from shared.models import AuditEntry
from shared.models.base import utcnow
from tests.support.sessions import login_form
from tests.support.web import PASSWORD, add_user, csrf_token

WRONG = "Wrong username or password."
THROTTLED = (
    "Too many failed sign-ins for this user or from this address. "
    "Try again in a quarter of an hour."
)
OFFICE = "10.20.0.5"  # where the district admin signed in before
STRANGER = "198.51.100.23"


@pytest.fixture
def app(session_factory: SessionFactory, app: Flask) -> Flask:
    add_user(session_factory, "admin", "district_admin")
    return app


def counted(factory: SessionFactory, action: str) -> list[tuple[str | None, str | None, int]]:
    """The audit entries of `action`: who, from where, how many times."""
    with factory() as session:
        rows = session.execute(
            select(AuditEntry.username, AuditEntry.remote_addr, AuditEntry.times)
            .where(AuditEntry.action == action)
            .order_by(AuditEntry.id)
        )
        return [tuple(row) for row in rows]


def burst(app: Flask, passwords: list[str], address: str) -> list[int]:
    """Each password posted at the same moment from `address`, by a browser of its own; the
    statuses, in the order of `passwords`."""
    forms = []
    for password in passwords:
        client = app.test_client()
        token = csrf_token(client.get("/login").text)
        forms.append((client, {"username": "admin", "password": password, "csrf_token": token}))
    statuses = [0] * len(passwords)
    start = threading.Barrier(len(passwords))

    def post(n: int) -> None:
        client, form = forms[n]
        start.wait()
        response = client.post("/login", data=form, environ_overrides={"REMOTE_ADDR": address})
        statuses[n] = response.status_code

    threads = [threading.Thread(target=post, args=(n,)) for n in range(len(passwords))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


def test_a_burst_of_wrong_passwords_is_judged_five_times(app: Flask, session_factory):
    """30 wrong passwords and the right one, at once: five wrong ones are judged, whatever the
    order; the right one gets in only if it came before the fifth failure."""
    statuses = burst(app, ["wrong password"] * 30 + [PASSWORD], STRANGER)
    wrong = Counter(statuses[:30])
    assert wrong[401] == MAX_FAILED_LOGINS
    assert wrong[429] == 30 - MAX_FAILED_LOGINS
    assert statuses[30] in (302, 429)
    assert counted(session_factory, "login.failed") == [("admin", STRANGER, 1)] * 5
    throttled = 30 - MAX_FAILED_LOGINS + (statuses[30] == 429)
    assert counted(session_factory, "login.throttled") == [("admin", STRANGER, throttled)]
    assert len(counted(session_factory, "login")) == (statuses[30] == 302)
    # after the burst, the right password from there is refused too
    assert login_form(app.test_client(), "admin", PASSWORD, STRANGER) == (429, THROTTLED)


def test_a_stranger_cannot_lock_the_district_admin_out(app: Flask, session_factory):
    admin = app.test_client()
    assert login_form(admin, "admin", PASSWORD, OFFICE)[0] == 302
    stranger = app.test_client()
    for _ in range(MAX_FAILED_LOGINS):
        assert login_form(stranger, "admin", "not the password", STRANGER) == (401, WRONG)
    # The stranger is locked out where they are, the right password included, however often
    # they come back...
    for password in ("not the password", PASSWORD, "another guess"):
        assert login_form(stranger, "admin", password, STRANGER) == (429, THROTTLED)
    # ...and the admin signs in at the office, and from a new address.
    assert login_form(app.test_client(), "admin", PASSWORD, OFFICE)[0] == 302
    assert login_form(app.test_client(), "admin", PASSWORD, "192.0.2.77")[0] == 302
    assert counted(session_factory, "login.throttled") == [("admin", STRANGER, 3)]


def test_strangers_at_many_addresses_lock_the_username_only_at_new_addresses(
    session_factory: SessionFactory,
):
    """The backstop: MAX_FAILED_LOGINS_PER_USER failures within the hour, spread over many
    addresses, lock the username at addresses it has never signed in from; where the user
    signed in before, they still sign in."""
    add_user(session_factory, "admin", "district_admin")
    now = utcnow()
    with session_factory.begin() as session:
        assert authenticate(session, "admin", PASSWORD, remote_addr=OFFICE, now=now)
        for n in range(MAX_FAILED_LOGINS_PER_USER - 1):
            address = f"203.0.113.{n // 4}"  # never more than 4 from one address
            record_audit(
                session,
                username="admin",
                action="login.failed",
                subject="admin",
                remote_addr=address,
                at=now - timedelta(minutes=50),
            )
        assert not login_throttled(session, "admin", remote_addr="192.0.2.1", now=now)
        assert authenticate(session, "admin", "wrong", remote_addr="203.0.113.99", now=now) is None
        assert login_throttled(session, "admin", remote_addr="192.0.2.1", now=now)
        assert authenticate(session, "admin", PASSWORD, remote_addr="192.0.2.1", now=now) is None
        assert authenticate(session, "admin", PASSWORD, remote_addr=OFFICE, now=now) is not None
        # an hour after the first of them, new addresses are open again
        later = now + timedelta(minutes=11)
        assert not login_throttled(session, "admin", remote_addr="192.0.2.1", now=later)


def test_throttled_sign_ins_are_counted_in_one_entry_per_quarter_hour(
    app: Flask, session_factory: SessionFactory
):
    client: FlaskClient = app.test_client()
    for _ in range(MAX_FAILED_LOGINS):
        login_form(client, "admin", "wrong password", STRANGER)
    for _ in range(40):
        assert login_form(client, "admin", "wrong password", STRANGER) == (429, THROTTLED)
    assert counted(session_factory, "login.throttled") == [("admin", STRANGER, 40)]
    with session_factory() as session:
        assert session.scalar(select(AuditEntry.id).order_by(AuditEntry.id.desc())) == 1 + 5 + 1
