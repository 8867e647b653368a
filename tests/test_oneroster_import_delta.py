"""Delta files give changes only: a `tobedeleted` user has every link of theirs ended, a
`tobedeleted` student enrollment ends that enrollment, an `active` row changes its row, and
the rows the delta does not name are left as they are."""

from pathlib import Path

from shared.core.db import SessionFactory
from tests.support.oneroster import (
    ENROLLMENTS,
    FIXTURES,
    HH_CHEN,
    HH_DIAZ_CHEN,
    MEMBERS,
    PERSONS,
    TODAY,
    bundle,
    clean_tables,
    d,
    files,
    findings,
    fixture_text,
    person,
    read_tables,
    replaced,
    run,
    same_files,
)

HH_DIAZ = "hh-c4950daff44f3aa905ac"  # the guardian u-p200 alone
USERS_HEADER = fixture_text("v1p1", "users.csv").splitlines()[0]
ENROLLMENTS_HEADER = fixture_text("v1p1", "enrollments.csv").splitlines()[0]
USERS = f"""\
{USERS_HEADER}
u-s101,active,2025-09-01T10:00:00Z,true,s1,student,leo.diaz,,Leo,Diaz,,100101,,,,u-p200,05,
u-s102,active,2025-09-01T10:00:00Z,true,s2,student,mia.chen,,Mia,Chen,,100102,,,,"u-p201,u-r300,u-x999",07,
u-p201,tobedeleted,2025-09-01T10:00:00Z,,,,,,,,,,,,,,,
u-t400,active,2025-09-01T10:00:00Z,true,s1,teacher,jo.park,,Jo,Park,,T400,jo@lakeside.example,6125550199,,,,
"""
ENROLLMENTS_DELTA = f"""\
{ENROLLMENTS_HEADER}
e3,tobedeleted,2025-09-01T10:00:00Z,c-home5,s1,u-s101,student,false,2025-08-18,
e4,active,2025-09-01T10:00:00Z,c-sci7,s2,u-s102,student,false,2025-08-25,2025-10-24
"""


def _delta_manifest() -> str:
    return replaced(
        fixture_text("v1p1", "manifest.csv"),
        ("file.users,bulk", "file.users,delta"),
        ("file.enrollments,bulk", "file.enrollments,delta"),
    )


def test_a_delta_ends_and_changes_only_what_it_names(
    session_factory: SessionFactory, tmp_path: Path
):
    changes: dict[str, str | bytes | None] = {
        "manifest.csv": _delta_manifest(),
        "users.csv": USERS,
        "enrollments.csv": ENROLLMENTS_DELTA,
    }
    run(session_factory, FIXTURES / "v1p1")

    report = run(session_factory, bundle(tmp_path / "delta", files=changes))

    assert files(report) == {
        "schools.csv": (0, 0, 2, 0),
        "calendars.csv": (0, 0, 2, 0),
        "people.csv": (0, 1, 2, 0),
        "households.csv": (0, 0, 0, 0),
        "householdMembers.csv": (0, 0, 0, 2),
        "enrollments.csv": (0, 1, 0, 1),
        "relationships.csv": (0, 0, 0, 3),
        "districtAssignments.csv": (0, 0, 1, 0),
        "preferences.csv": (0, 0, 0, 0),
    }
    assert findings(report) == [
        "skipped: users.csv:2: agentSourcedIds: 'u-p200' names no user in the bundle; skipped",
        "skipped: users.csv:3: agentSourcedIds: 'u-r300' names no user in the bundle; skipped",
        "skipped: users.csv:3: agentSourcedIds: 'u-x999' names no user in the bundle; skipped",
    ]
    assert report.preference_rows_created == 0  # u-t400 had a cell phone and an e-mail
    teacher = person("u-t400,Jo,Park,,T400,,,6125550199,jo@lakeside.example,")
    assert read_tables(session_factory) == clean_tables("v1p1") | {
        "persons": [*PERSONS[:-1], teacher],
        "members": [
            (HH_DIAZ_CHEN, "u-p200", None, None),
            (HH_DIAZ_CHEN, "u-p201", None, TODAY),
            (HH_DIAZ_CHEN, "u-s100", None, None),
            (HH_DIAZ_CHEN, "u-s101", None, None),
            (HH_CHEN, "u-p201", None, TODAY),
            (HH_CHEN, "u-s102", None, None),
        ],
        "enrollments": [
            ENROLLMENTS[0],
            ("u-s101", "s1-sy26", "05", d("2025-08-18"), TODAY),
            ("u-s102", "s2-sy26", "07", d("2025-08-25"), d("2025-10-24")),
        ],
        "relationships": [
            ("u-s100", "u-p200", "Parent", True, True, None, None),
            ("u-s100", "u-p201", "Guardian", True, True, None, TODAY),
            ("u-s101", "u-p200", "Parent", True, True, None, None),
            ("u-s101", "u-p201", "Guardian", True, True, None, TODAY),
            ("u-s102", "u-p201", "Guardian", True, True, None, TODAY),
            ("u-s102", "u-r300", "Relative", False, False, None, None),
        ],
    }


def test_the_same_delta_again_ends_nothing_more(session_factory: SessionFactory, tmp_path: Path):
    changes: dict[str, str | bytes | None] = {
        "manifest.csv": _delta_manifest(),
        "users.csv": USERS,
        "enrollments.csv": ENROLLMENTS_DELTA,
    }
    delta = bundle(tmp_path / "delta", files=changes)
    run(session_factory, FIXTURES / "v1p1")
    run(session_factory, delta)
    before = read_tables(session_factory)

    again = run(session_factory, delta, today=d("2025-09-02"))

    assert files(again) == {
        "schools.csv": (0, 0, 2, 0),
        "calendars.csv": (0, 0, 2, 0),
        "people.csv": (0, 0, 3, 0),
        "households.csv": (0, 0, 0, 0),
        "householdMembers.csv": (0, 0, 0, 0),
        "enrollments.csv": (0, 0, 1, 0),
        "relationships.csv": (0, 0, 0, 0),
        "districtAssignments.csv": (0, 0, 1, 0),
        "preferences.csv": (0, 0, 0, 0),
    }
    assert read_tables(session_factory) == before


def test_a_user_to_be_deleted_that_returns_in_a_bulk_file_is_opened_again(
    session_factory: SessionFactory, tmp_path: Path
):
    changes: dict[str, str | bytes | None] = {
        "manifest.csv": replaced(
            fixture_text("v1p1", "manifest.csv"), ("file.users,bulk", "file.users,delta")
        ),
        "users.csv": replaced(
            fixture_text("v1p1", "users.csv"),
            (
                'u-p201,,,true,"s1,s2",guardian,wei.chen,,Wei,Chen,,,wei.chen@example.org,,'
                "6125550102,u-s101,,",
                "u-p201,tobedeleted,,,,,,,,,,,,,,,,",
            ),
        ),
    }
    run(session_factory, FIXTURES / "v1p1")
    ended = run(session_factory, bundle(tmp_path / "delta", files=changes))
    assert files(ended)["relationships.csv"] == (0, 0, 3, 3)

    back = run(session_factory, FIXTURES / "v1p1", today=d("2025-09-02"))

    assert files(back) == same_files(
        "v1p1",
        households=(0, 0, 2, 0),
        householdMembers=(0, 2, 4, 3),
        relationships=(0, 3, 3, 0),
    )
    assert read_tables(session_factory) == clean_tables("v1p1") | {
        "households": [
            (HH_DIAZ_CHEN, "Diaz / Chen household", None),
            (HH_DIAZ, "Diaz household", None),
            (HH_CHEN, "Chen household", None),
        ],
        "members": [
            *MEMBERS[:4],
            (HH_DIAZ, "u-p200", None, d("2025-09-02")),
            (HH_DIAZ, "u-s100", None, d("2025-09-02")),
            (HH_DIAZ, "u-s101", None, d("2025-09-02")),
            *MEMBERS[4:],
        ],
    }


def test_a_staff_role_to_be_deleted_in_a_delta_ends_that_assignment_only(
    session_factory: SessionFactory, tmp_path: Path
):
    manifest = fixture_text("v1p2", "manifest.csv")
    for name, mode in [
        ("users", "delta"),
        ("roles", "delta"),
        ("academicSessions", "absent"),
        ("classes", "absent"),
        ("enrollments", "absent"),
    ]:
        manifest = replaced(manifest, (f"file.{name},bulk", f"file.{name},{mode}"))
    users = fixture_text("v1p2", "users.csv").splitlines(keepends=True)
    roles = fixture_text("v1p2", "roles.csv").splitlines(keepends=True)
    changes: dict[str, str | bytes | None] = {
        "manifest.csv": manifest,
        "users.csv": users[0] + "".join(line for line in users if line.startswith("u-t400,")),
        "roles.csv": roles[0]
        + "".join(line for line in roles if line.startswith("r8,"))
        + "".join(line for line in roles if line.startswith("r9,")).replace(
            "r9,,", "r9,tobedeleted,"
        ),
        "academicSessions.csv": None,
        "classes.csv": None,
        "enrollments.csv": None,
    }
    run(session_factory, FIXTURES / "v1p2")

    report = run(session_factory, bundle(tmp_path / "delta", "v1p2", changes))

    assert report.files["districtAssignments.csv"].ended == 1
    assert read_tables(session_factory) == clean_tables("v1p2") | {
        "assignments": [
            ("u-a500", None, "districtAdministrator", d("2024-07-01"), None),
            ("u-t400", "s1", "teacher", d("2025-08-11"), d("2026-06-12")),
            ("u-t400", "s2", "teacher", d("2025-08-11"), TODAY),
        ]
    }
