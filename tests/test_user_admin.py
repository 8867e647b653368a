"""Managing users (shared/access/users.py) on SQLite and PostgreSQL: the list, changes of role,
schools and password, each refusal with nothing changed, the last district admin, the audit."""

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import delete, select, update

from shared.access.signin import password_matches
from shared.access.users import UserView, create_user, get_user, list_users, update_user
from shared.core.db import SessionFactory
from shared.core.errors import Conflict, InvalidRequest, NotFound
from shared.models import AuditEntry, School, User
from tests.support.web import audit_rows

PASSWORD = "correct horse battery"
CREATED = datetime(2025, 10, 15, 8, 0, tzinfo=UTC)


def utc(view: UserView) -> UserView:
    """SQLite gives back naive UTC datetimes, PostgreSQL aware ones."""
    moment = view.created_at
    return replace(view, created_at=moment if moment.tzinfo else moment.replace(tzinfo=UTC))


def users(factory: SessionFactory) -> list[UserView]:
    with factory() as session:
        return [utc(view) for view in list_users(session)]


def view(
    username: str, role: str, schools: tuple[str, ...] = (), password: bool = True
) -> UserView:
    return UserView(username, role, schools, CREATED, password)


def hash_of(factory: SessionFactory, username: str) -> str | None:
    with factory() as session:
        return session.scalar(select(User.password_hash).where(User.username == username))


@pytest.fixture
def factory(session_factory: SessionFactory) -> SessionFactory:
    """Schools S-1..S-3; admin, sam (school admin of S-2 and S-1), vera (viewer) and robot (a
    district admin without password), all made at CREATED; the audit log then emptied."""
    with session_factory.begin() as session:
        session.add_all([School(ext_id=f"S-{n}", name=f"School {n}") for n in (3, 1, 2)])
    with session_factory.begin() as session:
        create_user(session, "vera", "viewer", PASSWORD, [])
        create_user(session, "sam", "school_admin", PASSWORD, ["S-2", "S-1"])
        create_user(session, "admin", "district_admin", PASSWORD, [])
        create_user(session, "robot", "viewer", None, [])
        session.execute(update(User).values(created_at=CREATED))
        session.execute(delete(AuditEntry))
    return session_factory


BEFORE = [
    view("admin", "district_admin"),
    view("robot", "viewer", password=False),
    view("sam", "school_admin", ("S-1", "S-2")),
    view("vera", "viewer"),
]


def test_list_users_by_username_with_sorted_schools(factory: SessionFactory):
    assert users(factory) == BEFORE
    with factory() as session:
        assert utc(get_user(session, "sam")) == view("sam", "school_admin", ("S-1", "S-2"))


def test_get_user_of_an_unknown_name_is_not_found(factory: SessionFactory):
    with factory() as session, pytest.raises(NotFound) as caught:
        get_user(session, "ghost")
    assert str(caught.value) == "no user named 'ghost'"


def test_change_role_and_schools(factory: SessionFactory):
    with factory.begin() as session:
        changes = update_user(
            session, "vera", role="school_admin", school_ext_ids=["S-3", "S-1", "S-3"], by="admin"
        )
    assert changes == {"role": "school_admin", "schoolIds": ["S-1", "S-3"]}
    with factory.begin() as session:
        assert update_user(session, "sam", school_ext_ids=["S-3"], by=None) == {
            "schoolIds": ["S-3"]
        }

    assert users(factory) == [
        view("admin", "district_admin"),
        view("robot", "viewer", password=False),
        view("sam", "school_admin", ("S-3",)),
        view("vera", "school_admin", ("S-1", "S-3")),
    ]
    assert audit_rows(factory) == [
        ("admin", "user.update", "vera", {"role": "school_admin", "schoolIds": ["S-1", "S-3"]}),
        (None, "user.update", "sam", {"schoolIds": ["S-3"]}),
    ]


def test_a_school_admin_who_changes_role_loses_the_schools(factory: SessionFactory):
    with factory.begin() as session:
        changes = update_user(session, "sam", role="district_admin", by="admin")

    assert changes == {"role": "district_admin", "schoolIds": []}
    assert users(factory)[2] == view("sam", "district_admin")
    assert audit_rows(factory) == [("admin", "user.update", "sam", changes)]


def test_a_new_password_is_hashed_and_never_audited(factory: SessionFactory):
    old = hash_of(factory, "robot")
    new_password = "a brand new password"
    with factory.begin() as session:
        assert update_user(session, "robot", password=new_password, by="admin") == {
            "password": "changed"
        }

    stored = hash_of(factory, "robot")
    assert (old, stored is not None) == (None, True)
    assert stored is not None and stored.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert password_matches(stored, new_password) is True
    assert users(factory)[1] == view("robot", "viewer")
    assert audit_rows(factory) == [("admin", "user.update", "robot", {"password": "changed"})]
    assert new_password not in repr(audit_rows(factory))


def test_nothing_to_change_records_nothing(factory: SessionFactory):
    with factory.begin() as session:
        assert update_user(session, "sam", role="school_admin", by="admin") == {}
        assert update_user(session, "sam", school_ext_ids=["S-1", "S-2"], by="admin") == {}
        assert update_user(session, "vera", role="viewer", school_ext_ids=[], by="admin") == {}

    assert users(factory) == BEFORE
    assert audit_rows(factory) == []


@pytest.mark.parametrize(
    ("username", "changes", "field", "message"),
    [
        ("vera", {"role": "admin"}, "role",
         "unknown role 'admin'; one of district_admin, school_admin, viewer"),
        ("vera", {"password": "short"}, "password", "must be 12 to 128 characters"),
        ("vera", {"password": ""}, "password", "must be 12 to 128 characters"),
        ("vera", {"role": "school_admin"}, "school", "a school_admin needs at least one school"),
        ("sam", {"school_ext_ids": []}, "school", "a school_admin needs at least one school"),
        ("vera", {"school_ext_ids": ["S-1"]}, "school",
         "only a school_admin has schools, not a viewer"),
        ("sam", {"role": "district_admin", "school_ext_ids": ["S-1"]}, "school",
         "only a school_admin has schools, not a district_admin"),
        ("sam", {"school_ext_ids": ["S-1", "S-9", "S-0"]}, "school", "unknown school(s): S-0, S-9"),
        ("sam", {"role": "viewer", "password": "short"}, "password",
         "must be 12 to 128 characters"),
    ],
)  # fmt: skip
def test_bad_changes_are_refused_and_change_nothing(
    factory: SessionFactory, username: str, changes: dict[str, Any], field: str, message: str
):
    hashes = {name: hash_of(factory, name) for name in ("sam", "vera")}
    with pytest.raises(InvalidRequest) as caught, factory.begin() as session:
        update_user(session, username, by="admin", **changes)

    assert (caught.value.field, caught.value.message) == (field, message)
    assert users(factory) == BEFORE
    assert {name: hash_of(factory, name) for name in ("sam", "vera")} == hashes
    assert audit_rows(factory) == []


def test_an_unknown_user_is_not_found(factory: SessionFactory):
    with pytest.raises(NotFound) as caught, factory.begin() as session:
        update_user(session, "ghost", role="viewer", by="admin")
    assert str(caught.value) == "no user named 'ghost'"
    assert audit_rows(factory) == []


def test_the_last_district_admin_stays(factory: SessionFactory):
    with factory.begin() as session:
        update_user(session, "robot", role="district_admin", by="admin")
    with factory.begin() as session:
        update_user(session, "robot", role="viewer", by="admin")  # admin is left

    for role, schools in (("viewer", None), ("school_admin", ["S-1"])):
        with pytest.raises(Conflict) as caught, factory.begin() as session:
            update_user(session, "admin", role=role, school_ext_ids=schools, by="admin")
        assert str(caught.value) == (
            "'admin' is the last district_admin; make another user district_admin first"
        )
    assert users(factory) == BEFORE
    assert audit_rows(factory) == [
        ("admin", "user.update", "robot", {"role": "district_admin"}),
        ("admin", "user.update", "robot", {"role": "viewer"}),
    ]
    with factory.begin() as session:  # a change that keeps the role is no demotion
        assert update_user(session, "admin", role="district_admin", by="admin") == {}


@pytest.mark.parametrize(
    ("role", "schools", "message"),
    [
        ("school_admin", [], "a school_admin needs at least one school"),
        ("viewer", ["S-1"], "only a school_admin has schools, not a viewer"),
        ("district_admin", ["S-1"], "only a school_admin has schools, not a district_admin"),
    ],
)
def test_create_user_applies_the_same_rule_for_schools(
    factory: SessionFactory, role: str, schools: list[str], message: str
):
    with pytest.raises(InvalidRequest) as caught, factory.begin() as session:
        create_user(session, "newbie", role, PASSWORD, schools)

    assert (caught.value.field, caught.value.message) == ("school", message)
    assert users(factory) == BEFORE
    assert audit_rows(factory) == []


def test_create_user_records_who_made_the_user(factory: SessionFactory):
    with factory.begin() as session:
        create_user(session, "newbie", "school_admin", None, ["S-3"], by="admin")

    assert audit_rows(factory) == [
        ("admin", "user.create", "newbie", {"role": "school_admin", "schoolIds": ["S-3"]})
    ]
