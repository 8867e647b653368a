"""A district made only of what OneRoster carries (no household phones, work phones, secondary
e-mails or preferences), imported through the native format and through OneRoster, gives the
same tables, the same preference export and the same batch counts for the same batches.

tests/support/twin_district.py writes the two bundles from one model, independently of the
product's translator. Each is imported into a database of its own (SQLite: two files;
PostgreSQL: one after the other, the tables emptied between them) and run through the batches
below; some counts are also given as literal numbers, so that two results wrong alike fail."""

from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from shared.core.db import SessionFactory, make_engine, make_session_factory
from shared.core.migrate import upgrade
from shared.core.vocabulary import ImportFormat
from shared.imports.runner import run_import
from tests.support.csv_bundle import LINKS, export, row_counts, tables
from tests.support.driver import run_batch, save_filter
from tests.support.results import result_table
from tests.support.stack import empty_tables
from tests.support.twin_district import District, make_district, write_native, write_oneroster

TODAY = date(2025, 10, 15)
STAFF_FILTER = {"name": "Staff", "kind": "census", "criteria": {"staff": True}}
BATCHES: dict[str, dict[str, Any]] = {
    "contacts of the district": {
        "mode": "studentContact",
        "scope": {"schoolYear": "2025-26"},
        "changes": {
            "householdPhone": {"emergency": "on"},
            "homePhone": {"emergency": "on"},
            "cellPhone": {"emergency": "on", "attendance": "on"},
            "email": {"emergency": "on", "behavior": "on"},
        },
    },
    "students of North": {
        "mode": "student",
        "scope": {"schoolId": "sch-north", "schoolYear": "2025-26"},
        "changes": {"email": {"general": "on"}, "homePhone": {"attendance": "on"}},
    },
    "contacts of a calendar, keeping guardians' choices": {
        "mode": "studentContact",
        "scope": {"calendarId": "sch-south-sy2026"},
        "keepGuardianChoices": True,
        "changes": {
            "householdPhone": {"attendance": "on"},
            "email": {"emergency": "off", "foodService": "on"},
            "cellPhone": {"behavior": "on"},
        },
    },
    "students of last year": {
        "mode": "student",
        "scope": {"schoolYear": "2024-25"},
        "changes": {"email": {"priority": "on"}, "cellPhone": {"priority": "on"}},
    },
    "staff": {
        "mode": "census",
        "changes": {
            "householdPhone": {"staff": "on"},
            "email": {"staff": "on", "emergency": "on"},
            "homePhone": {"staff": "on"},
        },
    },
}


@pytest.fixture(scope="module")
def district() -> District:
    return make_district()


def test_the_twin_holds_the_cases_the_mapping_has(district: District):
    """Students without guardians (some with a relative), guardians shared by two households,
    links given on either row or both, staff at two schools and at the district, students at
    two schools in one year or with two grades, class enrollments without dates."""
    roles = Counter(user.role for user in district.users.values())
    assert roles == {
        "student": 60,
        "parent": 26,
        "guardian": 5,
        "relative": 10,
        "teacher": 4,
        "administrator": 3,
        "aide": 2,
    }
    guardians: dict[str, set[str]] = {}
    for student, contact, _ in district.links:
        if district.users[contact].role in ("parent", "guardian"):
            guardians.setdefault(student, set()).add(contact)
    households = {frozenset(found) for found in guardians.values()}
    shared = Counter(guardian for found in households for guardian in found)
    assert (len(households), sum(n > 1 for n in shared.values())) == (23, 7)
    linked = {student for student, _, _ in district.links}
    assert (roles["student"] - len(guardians), len(linked) - len(guardians)) == (8, 5)
    assert Counter(side for _, _, side in district.links) == {
        "student": 23,
        "contact": 34,
        "both": 43,
    }
    assert {user.orgs for user in district.users.values() if user.role == "teacher"} >= {
        ("sch-north", "sch-south"),
        ("district", "sch-south"),
    }
    now = Counter(
        user
        for user, _ in {
            (s.user, s.klass.school)
            for s in district.seats
            if s.role == "student" and s.klass.year == "sy2026"
        }
    )
    assert sum(n > 1 for n in now.values()) == 6
    assert sum(len(user.grades) > 1 for user in district.users.values()) == 5
    assert (sum(not s.begin for s in district.seats), sum(not s.end for s in district.seats)) == (
        15,
        17,
    )


def test_native_and_oneroster_give_the_same_district_and_batches(
    session_factory: SessionFactory, district: District, tmp_path: Path
):
    native = outcome(session_factory, ImportFormat.NATIVE, write_native(district, tmp_path / "n"))
    engine: Engine = session_factory.kw["bind"]
    if engine.dialect.name == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path}/oneroster.sqlite3")
        upgrade(engine)
    else:
        empty_tables(engine)
    try:
        bundle = write_oneroster(district, tmp_path / "o")
        roster = outcome(make_session_factory(engine), ImportFormat.ONEROSTER, bundle)
    finally:
        if engine is not session_factory.kw["bind"]:
            engine.dispose()
    assert native["findings"] == roster["findings"] == ()
    assert roster["files"] == native["files"]
    assert roster["export"] == native["export"]
    for table in ("schools", "calendars", "persons", "households", *LINKS):
        assert roster[table] == native[table], table
    assert (
        roster["counts"]
        == native["counts"]
        == {
            "schools": 2,
            "calendars": 4,
            "people": 110,
            "households": 23,
            "household_members": 90,
            "enrollments": 103,
            "relationships": 100,
            "district_assignments": 11,
            "preferences": 212,
        }
    )
    for name in BATCHES:
        assert roster[name] == native[name], name
    # The household phones change nothing: OneRoster carries none.
    # Reached: those with an address on a channel set (no household has a phone in OneRoster).
    assert native["contacts of the district"] == succeeded(
        30,
        29,
        householdPhone__emergency=0,
        homePhone__emergency=18,
        cellPhone__emergency=14,
        cellPhone__attendance=14,
        email__emergency=26,
        email__behavior=26,
    )
    assert native["students of North"] == succeeded(
        40, 35, homePhone__attendance=20, email__general=32
    )
    # Those of the calendar who have an e-mail: all had emergency turned on by the first batch.
    assert native["contacts of a calendar, keeping guardians' choices"] == succeeded(
        20,
        19,
        householdPhone__attendance=0,
        cellPhone__behavior=9,
        email__emergency=17,
        email__foodService=17,
    )
    # Students whose enrollment of last year has no end date (one of their classes had none).
    assert native["students of last year"] == succeeded(
        2, 1, email__priority=1, cellPhone__priority=1
    )
    # Nine members of staff: two at the district org, one of them at a school as well.
    assert native["staff"] == succeeded(
        9, 7, householdPhone__staff=0, homePhone__staff=7, email__staff=7, email__emergency=7
    )


def succeeded(targets: int, reached: int, **counts: int) -> tuple[str, dict[str, Any]]:
    """A finished batch's status and result: `counts` (`channel__reason`) changed, none kept,
    `reached` of the targets with an address (no household: none has a phone)."""
    kept = result_table(**dict.fromkeys(counts, 0))
    return "succeeded", {
        "targets": targets,
        "errors": [],
        "counts": result_table(**counts),
        "kept": kept,
        "reached": {"people": reached, "households": 0},
        "skipped": {"noAddress": targets - reached},
    }


def outcome(factory: SessionFactory, fmt: ImportFormat, folder: Path) -> dict[str, Any]:
    """What the import of `folder` gives: its report, the export, the tables, then the result
    of each batch in turn."""
    with factory.begin() as session:
        report = run_import(session, fmt, folder, today=TODAY)
    seen: dict[str, Any] = {"findings": report.findings, "files": report.files_json()}
    with factory() as session:
        seen |= {"export": export(session), "counts": row_counts(session)}
        seen |= tables(session)
    with factory.begin() as session:
        census = save_filter(session, STAFF_FILTER).id
    for name, body in BATCHES.items():
        payload = body | {"filterId": census} if body["mode"] == "census" else body
        view = run_batch(factory, payload, today=TODAY)
        seen[name] = (view["status"], view["result"])
    return seen
