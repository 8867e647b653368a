"""Bulk files give the full state: a link the bundle no longer holds ends on the import's day,
and a user a bulk users.csv no longer holds keeps their person row while every link of theirs
ends; the row returning opens it again. Ending twice ends nothing more."""

from datetime import timedelta
from pathlib import Path

from shared.core.db import SessionFactory
from tests.support.oneroster import (
    ENROLLMENTS,
    FIXTURES,
    HH_CHEN,
    HH_DIAZ_CHEN,
    TODAY,
    bundle,
    clean_tables,
    d,
    files,
    findings,
    fixture_text,
    read_tables,
    replaced,
    run,
    same_files,
    without_lines,
)

TOMORROW = TODAY + timedelta(days=1)
SKIPPED = ["skipped: users.csv:4: agentSourcedIds: 'u-x999' names no user in the bundle; skipped"]


def test_a_student_no_longer_enrolled_in_a_calendar_is_ended_then_opened_again(
    session_factory: SessionFactory, tmp_path: Path
):
    """u-s100's two classes in s1-sy26 (e1, e2) leave enrollments.csv."""
    enrollments = without_lines(fixture_text("v1p1", "enrollments.csv"), "e1,", "e2,")
    dropped = bundle(tmp_path / "dropped", files={"enrollments.csv": enrollments})
    run(session_factory, FIXTURES / "v1p1")

    report = run(session_factory, dropped)

    assert files(report) == same_files("v1p1", enrollments=(0, 0, 2, 1))
    assert findings(report) == SKIPPED
    ended = [
        ("u-s100", "s1-sy26", "03", d("2025-08-18"), TODAY),
        ("u-s101", "s1-sy26", "05", d("2025-08-18"), None),
        ("u-s102", "s2-sy26", "07", d("2025-08-25"), d("2025-10-17")),
    ]
    assert read_tables(session_factory) == clean_tables("v1p1") | {"enrollments": ended}

    for today in (TODAY, TOMORROW):
        again = run(session_factory, dropped, today=today)
        assert files(again) == same_files("v1p1", enrollments=(0, 0, 2, 0))
        assert read_tables(session_factory) == clean_tables("v1p1") | {"enrollments": ended}

    opened = run(session_factory, FIXTURES / "v1p1", today=TOMORROW)

    assert files(opened) == same_files("v1p1", enrollments=(0, 1, 2, 0))
    assert read_tables(session_factory) == clean_tables("v1p1")
    for today in (TOMORROW, TOMORROW + timedelta(days=1)):
        again = run(session_factory, FIXTURES / "v1p1", today=today)
        assert files(again) == same_files("v1p1")
        assert read_tables(session_factory) == clean_tables("v1p1")


def test_an_enrollment_that_ended_before_the_import_is_left_as_it_is(
    session_factory: SessionFactory, tmp_path: Path
):
    """u-s102's enrollment ended on 2025-10-17: dropped after that day, it keeps that date."""
    enrollments = without_lines(fixture_text("v1p1", "enrollments.csv"), "e4,")
    run(session_factory, FIXTURES / "v1p1")

    report = run(
        session_factory,
        bundle(tmp_path / "b", files={"enrollments.csv": enrollments}),
        today=d("2025-10-20"),
    )

    assert files(report) == same_files("v1p1", enrollments=(0, 0, 2, 0))
    assert read_tables(session_factory) == clean_tables("v1p1")


def test_a_parent_gone_from_users_keeps_the_person_and_their_links_end(
    session_factory: SessionFactory, tmp_path: Path
):
    """Rosa Diaz (u-p200) leaves users.csv, and her children's agentSourcedIds: her two
    relationships end, the Diaz / Chen household loses every member (its guardians are now
    Wei Chen alone, whose household the children join)."""
    users = replaced(
        without_lines(fixture_text("v1p1", "users.csv"), "u-p200,"),
        ('"u-p200,u-p201",03', "u-p201,03"),
        (",u-p200,05,", ",,05,"),
    )
    run(session_factory, FIXTURES / "v1p1")

    report = run(session_factory, bundle(tmp_path / "b", files={"users.csv": users}))

    assert files(report) == same_files(
        "v1p1",
        people=(0, 0, 7, 0),
        households=(0, 0, 1, 0),
        householdMembers=(2, 0, 2, 4),
        relationships=(0, 0, 4, 2),
    )
    assert findings(report) == SKIPPED
    members = [
        (HH_DIAZ_CHEN, "u-p200", None, TODAY),
        (HH_DIAZ_CHEN, "u-p201", None, TODAY),
        (HH_DIAZ_CHEN, "u-s100", None, TODAY),
        (HH_DIAZ_CHEN, "u-s101", None, TODAY),
        (HH_CHEN, "u-p201", None, None),
        (HH_CHEN, "u-s100", None, None),
        (HH_CHEN, "u-s101", None, None),
        (HH_CHEN, "u-s102", None, None),
    ]
    relationships = [
        ("u-s100", "u-p200", "Parent", True, True, None, TODAY),
        ("u-s100", "u-p201", "Guardian", True, True, None, None),
        ("u-s101", "u-p200", "Parent", True, True, None, TODAY),
        ("u-s101", "u-p201", "Guardian", True, True, None, None),
        ("u-s102", "u-p201", "Guardian", True, True, None, None),
        ("u-s102", "u-r300", "Relative", False, False, None, None),
    ]
    assert read_tables(session_factory) == clean_tables("v1p1") | {
        "members": members,
        "relationships": relationships,
    }

    back = run(session_factory, FIXTURES / "v1p1", today=TOMORROW)

    assert files(back) == same_files(
        "v1p1", householdMembers=(0, 4, 2, 2), relationships=(0, 2, 4, 0)
    )
    assert read_tables(session_factory) == clean_tables("v1p1") | {
        "members": [
            (HH_DIAZ_CHEN, "u-p200", None, None),
            (HH_DIAZ_CHEN, "u-p201", None, None),
            (HH_DIAZ_CHEN, "u-s100", None, None),
            (HH_DIAZ_CHEN, "u-s101", None, None),
            (HH_CHEN, "u-p201", None, None),
            (HH_CHEN, "u-s100", None, TOMORROW),
            (HH_CHEN, "u-s101", None, TOMORROW),
            (HH_CHEN, "u-s102", None, None),
        ]
    }


def test_a_student_gone_from_users_keeps_the_person_and_their_links_end(
    session_factory: SessionFactory, tmp_path: Path
):
    """Mia Chen (u-s102) leaves users.csv, and her class enrollment e4 enrollments.csv: her
    enrollment, her two relationships and the Chen household's members end."""
    changes: dict[str, str | bytes | None] = {
        "users.csv": without_lines(fixture_text("v1p2", "users.csv"), "u-s102,"),
        "enrollments.csv": without_lines(fixture_text("v1p2", "enrollments.csv"), "e4,"),
        "roles.csv": without_lines(fixture_text("v1p2", "roles.csv"), "r3,"),
    }
    run(session_factory, FIXTURES / "v1p2")

    report = run(session_factory, bundle(tmp_path / "b", "v1p2", changes))

    assert files(report) == same_files(
        "v1p2",
        people=(0, 0, 7, 0),
        households=(0, 0, 1, 0),
        householdMembers=(0, 0, 4, 2),
        enrollments=(0, 0, 2, 1),
        relationships=(0, 0, 4, 2),
    )
    assert findings(report) == []
    clean = clean_tables("v1p2")
    assert read_tables(session_factory) == clean | {
        "members": clean["members"][:4]
        + [(HH_CHEN, "u-p201", None, TODAY), (HH_CHEN, "u-s102", None, TODAY)],
        "enrollments": ENROLLMENTS[:2] + [("u-s102", "s2-sy26", "07", d("2025-08-25"), TODAY)],
        "relationships": clean["relationships"][:4]
        + [
            ("u-s102", "u-p201", "Guardian", True, True, None, TODAY),
            ("u-s102", "u-r300", "Relative", False, False, None, TODAY),
        ],
    }

    back = run(session_factory, FIXTURES / "v1p2", today=TOMORROW)

    assert files(back) == same_files(
        "v1p2", householdMembers=(0, 2, 4, 0), enrollments=(0, 1, 2, 0), relationships=(0, 2, 4, 0)
    )
    assert findings(back) == SKIPPED
    assert read_tables(session_factory) == clean


def test_a_teacher_gone_from_users_and_roles_has_their_assignments_ended(
    session_factory: SessionFactory, tmp_path: Path
):
    """The teacher leaving a bulk users.csv and roles.csv ends all of their assignments. (A
    bulk users.csv with roles.csv in delta is refused: tests/unit/test_oneroster_delta.py.)"""
    changes: dict[str, str | bytes | None] = {
        "users.csv": without_lines(fixture_text("v1p2", "users.csv"), "u-t400,"),
        "enrollments.csv": without_lines(fixture_text("v1p2", "enrollments.csv"), "e5,"),
        "roles.csv": without_lines(fixture_text("v1p2", "roles.csv"), "r8,", "r9,"),
    }
    run(session_factory, FIXTURES / "v1p2")

    report = run(session_factory, bundle(tmp_path / "b", "v1p2", changes))

    assert files(report) == same_files(
        "v1p2", people=(0, 0, 7, 0), districtAssignments=(0, 0, 1, 2)
    )
    assert read_tables(session_factory) == clean_tables("v1p2") | {
        "assignments": [
            ("u-a500", None, "districtAdministrator", d("2024-07-01"), None),
            ("u-t400", "s1", "teacher", d("2025-08-11"), TODAY),
            ("u-t400", "s2", "teacher", d("2025-08-11"), TODAY),
        ]
    }

    back = run(session_factory, FIXTURES / "v1p2", today=TOMORROW)

    assert files(back) == same_files("v1p2", districtAssignments=(0, 2, 1, 0))
    assert read_tables(session_factory) == clean_tables("v1p2")
