"""Users, password hashes, API tokens, login throttling and the audit log."""

import hashlib
from datetime import UTC, timedelta

import pytest
from sqlalchemy import select

from shared.access.audit import record_audit
from shared.access.signin import (
    MAX_FAILED_LOGINS,
    authenticate,
    login_throttled,
    password_matches,
)
from shared.access.tokens import create_token, user_for_token
from shared.access.users import create_user, user_school_ext_ids
from shared.core.db import SessionFactory
from shared.core.errors import Conflict, InvalidRequest, NotFound
from shared.models import ApiToken, AuditEntry, School, User
from shared.models.base import utcnow
from tests.support.web import audit_rows

PASSWORD = "correct horse battery"


def add_schools(factory: SessionFactory) -> None:
    with factory.begin() as session:
        session.add_all([School(ext_id="S-1", name="One"), School(ext_id="S-2", name="Two")])


def test_create_user_stores_an_argon2id_hash_and_the_schools(session_factory: SessionFactory):
    add_schools(session_factory)
    with session_factory.begin() as session:
        create_user(session, "ada", "school_admin", PASSWORD, ["S-2", "S-1", "S-2"])

    with session_factory() as session:
        user = session.scalars(select(User)).one()
        assert (user.username, user.role) == ("ada", "school_admin")
        assert user.password_hash is not None
        assert user.password_hash.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
        assert PASSWORD not in user.password_hash
        assert password_matches(user.password_hash, PASSWORD) is True
        assert password_matches(user.password_hash, PASSWORD + "!") is False
        assert user_school_ext_ids(session, user) == ["S-1", "S-2"]
    assert audit_rows(session_factory) == [
        (None, "user.create", "ada", {"role": "school_admin", "schoolIds": ["S-1", "S-2"]})
    ]


def test_a_user_without_password_cannot_log_in(session_factory: SessionFactory):
    with session_factory.begin() as session:
        create_user(session, "robot", "district_admin", None, [])
    with session_factory.begin() as session:
        assert session.scalars(select(User.password_hash)).one() is None
        assert authenticate(session, "robot", "") is None
        assert authenticate(session, "robot", "anything at all") is None


@pytest.mark.parametrize(
    ("username", "role", "password", "schools", "field", "message"),
    [
        ("ada", "admin", PASSWORD, [], "role", "unknown role 'admin'; one of "
         "district_admin, school_admin, viewer"),
        ("ada", "viewer", "short", [], "password", "must be 12 to 128 characters"),
        ("ada", "viewer", "x" * 11, [], "password", "must be 12 to 128 characters"),
        ("ada", "viewer", "x" * 129, [], "password", "must be 12 to 128 characters"),
        ("  ", "viewer", PASSWORD, [], "username", "must be 1 to 100 characters"),
        ("x" * 101, "viewer", PASSWORD, [], "username", "must be 1 to 100 characters"),
        ("ada", "school_admin", PASSWORD, ["S-1", "S-9", "S-0"], "school",
         "unknown school(s): S-0, S-9"),
    ],
)  # fmt: skip
def test_create_user_refuses_bad_input_and_writes_nothing(
    session_factory: SessionFactory,
    username: str,
    role: str,
    password: str,
    schools: list[str],
    field: str,
    message: str,
):
    add_schools(session_factory)
    with pytest.raises(InvalidRequest) as caught, session_factory.begin() as session:
        create_user(session, username, role, password, schools)
    assert (caught.value.field, caught.value.message) == (field, message)
    with session_factory() as session:
        assert session.scalars(select(User)).all() == []
    assert audit_rows(session_factory) == []


def test_duplicate_username_is_a_conflict(session_factory: SessionFactory):
    with session_factory.begin() as session:
        create_user(session, "ada", "viewer", PASSWORD, [])
    with pytest.raises(Conflict, match="a user named 'ada' exists already"):
        with session_factory.begin() as session:
            create_user(session, "ada", "district_admin", PASSWORD, [])
    with session_factory() as session:
        assert session.execute(select(User.username, User.role)).all() == [("ada", "viewer")]


def test_authenticate_records_logins_and_failed_logins(session_factory: SessionFactory):
    with session_factory.begin() as session:
        create_user(session, "ada", "viewer", PASSWORD, [])
    with session_factory.begin() as session:
        user = authenticate(session, "ada", PASSWORD, remote_addr="10.0.0.7")
        assert user is not None and user.username == "ada"
        assert authenticate(session, "ada", "wrong password") is None
        assert authenticate(session, "nobody", PASSWORD) is None

    assert audit_rows(session_factory)[1:] == [
        ("ada", "login", "ada", {"remoteAddr": "10.0.0.7"}),
        ("ada", "login.failed", "ada", None),
        ("nobody", "login.failed", "nobody", None),
    ]


def test_a_failed_login_with_an_overlong_name_is_recorded_cut(session_factory: SessionFactory):
    typed = "x" * 5000
    with session_factory.begin() as session:
        assert authenticate(session, typed, PASSWORD) is None
    assert audit_rows(session_factory) == [("x" * 100, "login.failed", "x" * 200, None)]


def test_failed_logins_are_throttled_per_username(session_factory: SessionFactory):
    with session_factory.begin() as session:
        create_user(session, "ada", "viewer", PASSWORD, [])
        create_user(session, "bob", "viewer", PASSWORD, [])
    now = utcnow()
    with session_factory.begin() as session:
        for _ in range(MAX_FAILED_LOGINS - 1):
            assert authenticate(session, "ada", "wrong password", now=now) is None
        assert login_throttled(session, "ada", now=now) is False
        assert authenticate(session, "ada", "wrong password", now=now) is None
        assert login_throttled(session, "ada", now=now) is True
        # Even the right password fails while throttled; another user is not affected.
        assert authenticate(session, "ada", PASSWORD, now=now) is None
        bob = authenticate(session, "bob", PASSWORD, now=now)
        assert bob is not None and bob.username == "bob"
    later = now + timedelta(minutes=15, seconds=1)
    with session_factory.begin() as session:
        assert login_throttled(session, "ada", now=later) is False
        ada = authenticate(session, "ada", PASSWORD, now=later)
        assert ada is not None and ada.username == "ada"

    actions = [action for _, action, _, _ in audit_rows(session_factory)[2:]]
    assert actions == ["login.failed"] * 5 + ["login.throttled", "login", "login"]


def test_tokens_are_stored_as_sha256_digests(session_factory: SessionFactory):
    with session_factory.begin() as session:
        create_user(session, "ada", "district_admin", None, [])
        create_user(session, "bob", "viewer", None, [])
    with session_factory.begin() as session:
        token = create_token(session, "ada")
        other = create_token(session, "bob")

    assert len(token) == 43 and token != other
    with session_factory() as session:
        digests = session.execute(select(ApiToken.id, ApiToken.digest).order_by(ApiToken.id))
        assert digests.all() == [
            (1, hashlib.sha256(token.encode()).hexdigest()),
            (2, hashlib.sha256(other.encode()).hexdigest()),
        ]
        ada = user_for_token(session, token)
        bob = user_for_token(session, other)
        assert (ada and ada.username, bob and bob.username) == ("ada", "bob")
        assert user_for_token(session, token + "x") is None
        assert user_for_token(session, "") is None
        assert user_for_token(session, hashlib.sha256(token.encode()).hexdigest()) is None
    assert audit_rows(session_factory)[2:] == [
        (None, "token.create", "ada", {"tokenId": 1}),
        (None, "token.create", "bob", {"tokenId": 2}),
    ]


def test_create_token_for_an_unknown_user_is_not_found(session_factory: SessionFactory):
    with pytest.raises(NotFound, match="no user named 'ghost'"):
        with session_factory.begin() as session:
            create_token(session, "ghost")
    with session_factory() as session:
        assert session.scalars(select(ApiToken)).all() == []


def test_record_audit_writes_one_row(session_factory: SessionFactory):
    before = utcnow()
    with session_factory.begin() as session:
        record_audit(
            session,
            username="ada",
            action="batch.submit",
            subject="batch:7",
            detail={"mode": "student", "dryRun": False},
        )
        record_audit(session, username=None, action="import")
    after = utcnow()
    assert audit_rows(session_factory) == [
        ("ada", "batch.submit", "batch:7", {"mode": "student", "dryRun": False}),
        (None, "import", None, None),
    ]
    with session_factory() as session:
        moments = session.scalars(select(AuditEntry.at)).all()
    # SQLite gives back naive UTC datetimes, PostgreSQL aware ones.
    utc = [m.astimezone(UTC) if m.tzinfo else m.replace(tzinfo=UTC) for m in moments]
    assert [before <= m <= after for m in utc] == [True, True]
