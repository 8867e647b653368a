"""Native CSV import: exact rows written, every problem reported exactly and
nothing written when there is one, re-import changes nothing, a changed row updates in place."""

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, insert, select, update
from sqlalchemy import text as sql
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shared.core.db import SessionFactory
from shared.core.errors import ImportFailed
from shared.imports.native import FileCounts, ImportSummary, import_bundle, staging
from shared.imports.native.formats import SPECS, FileSpec
from shared.imports.native.plain_lines import RowTest
from shared.imports.native.reading import cell_problem
from shared.models import (
    Calendar,
    DistrictAssignment,
    Enrollment,
    Household,
    HouseholdMember,
    Person,
    Relationship,
    School,
    preferences,
)
from shared.models.preferences import SETTER_COLUMNS
from shared.people.export import iter_preferences_csv

PREFERENCES_HEADER = (
    "subjectType,subjectId,channel,address,emergency,attendance,behavior,staff,general,"
    "foodService,priority,teacher,guardianSet"
)
BUNDLE = {
    "schools.csv": """\
schoolId,name
S1,North Elementary
S2,South High
""",
    "calendars.csv": """\
calendarId,schoolId,name,schoolYear,startDate,endDate
C1,S1,North 2025-26,2025-26,2025-08-19,2026-06-04
C2,S2,South 2024-25,2024-25,,
""",
    "people.csv": """\
personId,firstName,lastName,studentNumber,staffNumber,homePhone,workPhone,cellPhone,email,secondaryEmail
P1,Ann,Lee,1001,,5550001,,5550002,ann@example.org,
P2,Bob,Lee,,,,5550003,,,
P3,Cy,Day,,E7,,,,cy@example.org,cy2@example.org
""",
    "households.csv": """\
householdId,name,phone
H1,Lee Household,5559000
H2,Day Household,
""",
    "householdMembers.csv": """\
householdId,personId,startDate,endDate
H1,P1,,
H1,P2,2024-01-01,
H2,P3,,2025-06-30
""",
    "enrollments.csv": """\
personId,calendarId,grade,startDate,endDate
P1,C1,03,2025-08-19,
P1,C2,02,,2025-06-01
""",
    "relationships.csv": """\
studentId,contactId,name,guardian,messenger,startDate,endDate
P1,P2,Father,true,true,,
P1,P1,Self,false,false,2025-01-01,
""",
    "districtAssignments.csv": """\
personId,schoolId,title,startDate,endDate
P3,S1,Teacher,2020-08-01,
P3,,Coach,,
""",
    "preferences.csv": f"""\
{PREFERENCES_HEADER}
household,H1,householdPhone,5559000,1,1,0,0,0,0,1,0,emergency
person,P1,cellPhone,5550002,1,0,0,0,0,0,0,1,teacher|emergency
person,P3,email,cy@example.org,0,0,0,0,0,0,0,0,
""",
}
EXPORT = f"""\
{PREFERENCES_HEADER}
household,H1,householdPhone,5559000,1,1,0,0,0,0,1,0,emergency
person,P1,homePhone,5550001,0,0,0,0,0,0,0,0,
person,P1,cellPhone,5550002,1,0,0,0,0,0,0,1,emergency|teacher
person,P1,email,ann@example.org,0,0,0,0,0,0,0,0,
person,P2,workPhone,5550003,0,0,0,0,0,0,0,0,
person,P3,email,cy@example.org,0,0,0,0,0,0,0,0,
person,P3,secondaryEmail,cy2@example.org,0,0,0,0,0,0,0,0,
""".replace("\n", "\r\n")
TABLES = {
    "schools": School,
    "calendars": Calendar,
    "people": Person,
    "households": Household,
    "household_members": HouseholdMember,
    "enrollments": Enrollment,
    "relationships": Relationship,
    "district_assignments": DistrictAssignment,
}
FIRST_IMPORT = ImportSummary(
    schools=FileCounts(inserted=2),
    calendars=FileCounts(inserted=2),
    people=FileCounts(inserted=3),
    households=FileCounts(inserted=2),
    household_members=FileCounts(inserted=3),
    enrollments=FileCounts(inserted=2),
    relationships=FileCounts(inserted=2),
    district_assignments=FileCounts(inserted=2),
    preferences=FileCounts(inserted=3),
    preference_rows_created=7,
)
SAME_AGAIN = ImportSummary(
    schools=FileCounts(unchanged=2),
    calendars=FileCounts(unchanged=2),
    people=FileCounts(unchanged=3),
    households=FileCounts(unchanged=2),
    household_members=FileCounts(unchanged=3),
    enrollments=FileCounts(unchanged=2),
    relationships=FileCounts(unchanged=2),
    district_assignments=FileCounts(unchanged=2),
    preferences=FileCounts(unchanged=3),
    preference_rows_created=0,
)


def write_bundle(directory: Path, changes: dict[str, str | None] | None = None) -> Path:
    """The bundle above with some files replaced (text) or left out (None)."""
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in (BUNDLE | (changes or {})).items():
        if text is not None:
            (directory / name).write_text(text, encoding="utf-8")
    return directory


def with_rows(name: str, *rows: str) -> dict[str, str | None]:
    """The bundle's file `name` with more rows at its end."""
    return {name: BUNDLE[name] + "".join(f"{row}\n" for row in rows)}


def replacing(name: str, old: str, new: str) -> dict[str, str | None]:
    assert old in BUNDLE[name]
    return {name: BUNDLE[name].replace(old, new, 1)}


def row_counts(session: Session) -> dict[str, int]:
    counts = {
        name: session.scalar(select(func.count()).select_from(model)) or 0
        for name, model in TABLES.items()
    }
    counts["preferences"] = session.scalar(select(func.count()).select_from(preferences)) or 0
    return counts


def export(session: Session) -> str:
    return "".join(iter_preferences_csv(session))


def import_ok(factory: SessionFactory, directory: Path) -> ImportSummary:
    with factory.begin() as session:
        return import_bundle(session, directory)


def test_import_writes_every_entity_exactly(session_factory: SessionFactory, tmp_path: Path):
    assert import_ok(session_factory, write_bundle(tmp_path)) == FIRST_IMPORT

    with session_factory.begin() as session:
        assert row_counts(session) == {
            "schools": 2,
            "calendars": 2,
            "people": 3,
            "households": 2,
            "household_members": 3,
            "enrollments": 2,
            "relationships": 2,
            "district_assignments": 2,
            "preferences": 7,
        }
        people = session.execute(
            select(
                Person.ext_id,
                Person.first_name,
                Person.last_name,
                Person.student_number,
                Person.staff_number,
                Person.home_phone,
                Person.work_phone,
                Person.cell_phone,
                Person.email,
                Person.secondary_email,
            ).order_by(Person.ext_id)
        ).all()
        assert [tuple(p) for p in people] == [
            ("P1", "Ann", "Lee", "1001", None, "5550001", None, "5550002", "ann@example.org", None),
            ("P2", "Bob", "Lee", None, None, None, "5550003", None, None, None),
            ("P3", "Cy", "Day", None, "E7", None, None, None, "cy@example.org", "cy2@example.org"),
        ]
        calendars = session.execute(
            select(
                Calendar.ext_id,
                School.ext_id,
                Calendar.name,
                Calendar.school_year,
                Calendar.start_date,
                Calendar.end_date,
            )
            .join(School, School.id == Calendar.school_id)
            .order_by(Calendar.ext_id)
        ).all()
        assert [tuple(c) for c in calendars] == [
            ("C1", "S1", "North 2025-26", "2025-26", date(2025, 8, 19), date(2026, 6, 4)),
            ("C2", "S2", "South 2024-25", "2024-25", None, None),
        ]
        households = session.execute(
            select(Household.ext_id, Household.name, Household.phone).order_by(Household.ext_id)
        ).all()
        assert [tuple(h) for h in households] == [
            ("H1", "Lee Household", "5559000"),
            ("H2", "Day Household", None),
        ]
        assert links(session) == {
            "members": [
                ("H1", "P1", None, None),
                ("H1", "P2", date(2024, 1, 1), None),
                ("H2", "P3", None, date(2025, 6, 30)),
            ],
            "enrollments": [
                ("P1", "C1", "03", date(2025, 8, 19), None),
                ("P1", "C2", "02", None, date(2025, 6, 1)),
            ],
            "relationships": [
                ("P1", "P1", "Self", False, False, date(2025, 1, 1), None),
                ("P1", "P2", "Father", True, True, None, None),
            ],
            "assignments": [
                ("P3", None, "Coach", None, None),
                ("P3", "S1", "Teacher", date(2020, 8, 1), None),
            ],
        }
        assert stored_preferences(session) == {
            ("H1", 0): (0b0100_0011, ("guardian", "import", 0, 0, 0, 0, "import", 0)),
            ("P1", 1): (0, (0,) * 8),
            ("P1", 3): (0b1000_0001, ("guardian", 0, 0, 0, 0, 0, 0, "guardian")),
            ("P1", 4): (0, (0,) * 8),
            ("P2", 2): (0, (0,) * 8),
            ("P3", 4): (0, (0,) * 8),
            ("P3", 5): (0, (0,) * 8),
        }
        assert export(session) == EXPORT


def links(session: Session) -> dict[str, list[tuple[Any, ...]]]:
    def ext(model: Any, column: Any) -> Any:
        return select(model.ext_id).where(model.id == column).scalar_subquery()

    members = select(
        ext(Household, HouseholdMember.household_id),
        ext(Person, HouseholdMember.person_id),
        HouseholdMember.start_date,
        HouseholdMember.end_date,
    )
    enrollments = select(
        ext(Person, Enrollment.person_id),
        ext(Calendar, Enrollment.calendar_id),
        Enrollment.grade,
        Enrollment.start_date,
        Enrollment.end_date,
    )
    relationships = select(
        ext(Person, Relationship.student_id),
        ext(Person, Relationship.contact_id),
        Relationship.name,
        Relationship.guardian,
        Relationship.messenger,
        Relationship.start_date,
        Relationship.end_date,
    )
    assignments = select(
        ext(Person, DistrictAssignment.person_id),
        ext(School, DistrictAssignment.school_id),
        DistrictAssignment.title,
        DistrictAssignment.start_date,
        DistrictAssignment.end_date,
    )

    def rows(statement: Any) -> list[tuple[Any, ...]]:
        found = [tuple(row) for row in session.execute(statement)]
        return sorted(found, key=lambda row: tuple(str(cell) for cell in row))

    return {
        "members": rows(members),
        "enrollments": rows(enrollments),
        "relationships": rows(relationships),
        "assignments": rows(assignments),
    }


def stored_preferences(session: Session) -> dict[tuple[str, int], tuple[int, tuple[Any, ...]]]:
    """(subject ext id, channel) -> (mask, setters), named setters spelled out (0 stays 0)."""
    names = {-1: "import", -2: "guardian", -3: "staff"}
    found = {}
    for table in (Person, Household):
        personal = preferences.c.channel != 0 if table is Person else preferences.c.channel == 0
        rows = session.execute(
            select(
                table.ext_id,
                preferences.c.channel,
                preferences.c.mask,
                *(preferences.c[c] for c in SETTER_COLUMNS),
            )
            .join(table, table.id == preferences.c.subject_id)
            .where(personal)
        )
        for ext_id, channel, mask, *setters in rows:
            found[(ext_id, channel)] = (mask, tuple(names.get(s, s) for s in setters))
    return found


def test_reimport_changes_nothing(session_factory: SessionFactory, tmp_path: Path):
    bundle = write_bundle(tmp_path)
    import_ok(session_factory, bundle)
    with session_factory.begin() as session:
        ids_before = {p.ext_id: p.id for p in session.scalars(select(Person))}
        links_before = links(session)

    again = import_ok(session_factory, bundle)

    assert again == SAME_AGAIN
    assert again.changed_nothing is True
    with session_factory.begin() as session:
        assert {p.ext_id: p.id for p in session.scalars(select(Person))} == ids_before
        assert links(session) == links_before
        assert export(session) == EXPORT


def test_changed_rows_update_in_place(session_factory: SessionFactory, tmp_path: Path):
    import_ok(session_factory, write_bundle(tmp_path / "first"))
    with session_factory.begin() as session:
        ids_before = {p.ext_id: p.id for p in session.scalars(select(Person))}
        relationship_ids = set(session.scalars(select(Relationship.id)))
    changes = (
        replacing("schools.csv", "S2,South High", "S2,South High School")
        | replacing("people.csv", "P2,Bob,Lee,,,,5550003,,,", "P2,Bob,Leigh,,,,5550003,5550004,,")
        | replacing("householdMembers.csv", "H1,P2,2024-01-01,", "H1,P2,2024-01-01,2025-09-30")
        | replacing("enrollments.csv", "P1,C1,03,", "P1,C1,04,")
        | replacing("relationships.csv", "P1,P2,Father,true,true,,", "P1,P2,Father,true,false,,")
        | replacing("districtAssignments.csv", "P3,,Coach,,", "P3,,Coach,,2025-06-30")
        | replacing(
            "preferences.csv",
            "person,P1,cellPhone,5550002,1,0,0,0,0,0,0,1,teacher|emergency",
            "person,P1,cellPhone,5550002,1,0,0,0,0,0,0,0,emergency",
        )
    )

    summary = import_ok(session_factory, write_bundle(tmp_path / "second", changes))

    assert summary == ImportSummary(
        schools=FileCounts(updated=1, unchanged=1),
        calendars=FileCounts(unchanged=2),
        people=FileCounts(updated=1, unchanged=2),
        households=FileCounts(unchanged=2),
        household_members=FileCounts(updated=1, unchanged=2),
        enrollments=FileCounts(updated=1, unchanged=1),
        relationships=FileCounts(updated=1, unchanged=1),
        district_assignments=FileCounts(updated=1, unchanged=1),
        preferences=FileCounts(updated=1, unchanged=2),
        preference_rows_created=1,  # P2's new cell phone
    )
    with session_factory.begin() as session:
        assert {p.ext_id: p.id for p in session.scalars(select(Person))} == ids_before
        assert set(session.scalars(select(Relationship.id))) == relationship_ids
        assert session.scalar(select(School.name).where(School.ext_id == "S2")) == (
            "South High School"
        )
        p2 = session.scalars(select(Person).where(Person.ext_id == "P2")).one()
        assert (p2.last_name, p2.cell_phone) == ("Leigh", "5550004")
        changed = links(session)
        assert changed["members"][1] == ("H1", "P2", date(2024, 1, 1), date(2025, 9, 30))
        assert changed["enrollments"][0] == ("P1", "C1", "04", date(2025, 8, 19), None)
        assert changed["relationships"][1] == ("P1", "P2", "Father", True, False, None, None)
        assert changed["assignments"][0] == ("P3", None, "Coach", None, date(2025, 6, 30))
        stored = stored_preferences(session)
        # teacher turned off by the import; emergency unchanged, so it keeps its guardian setter
        assert stored[("P1", 3)] == (0b1, ("guardian", 0, 0, 0, 0, 0, 0, "import"))
        assert stored[("P2", 3)] == (0, (0,) * 8)


def test_a_changed_start_date_is_a_new_link_row(session_factory: SessionFactory, tmp_path: Path):
    """startDate is part of the natural key: a row with another start is another row."""
    import_ok(session_factory, write_bundle(tmp_path / "first"))
    changes = replacing("enrollments.csv", "P1,C1,03,2025-08-19,", "P1,C1,03,2025-09-01,")

    summary = import_ok(session_factory, write_bundle(tmp_path / "second", changes))

    assert summary.enrollments == FileCounts(inserted=1, unchanged=1)
    with session_factory.begin() as session:
        assert [row[3] for row in links(session)["enrollments"]] == [
            date(2025, 8, 19),
            date(2025, 9, 1),
            None,
        ]


def test_rows_absent_from_the_files_are_left_alone(session_factory: SessionFactory, tmp_path: Path):
    import_ok(session_factory, write_bundle(tmp_path / "first"))
    only_p1 = {name: None for name in BUNDLE} | {
        "people.csv": BUNDLE["people.csv"].splitlines(keepends=True)[0]
        + "P1,Ann,Lee-Smith,1001,,5550001,,5550002,ann@example.org,\n",
    }

    summary = import_ok(session_factory, write_bundle(tmp_path / "second", only_p1))

    assert summary == ImportSummary(people=FileCounts(updated=1))
    with session_factory.begin() as session:
        assert row_counts(session)["people"] == 3
        assert row_counts(session)["enrollments"] == 2
        assert export(session) == EXPORT


def test_references_and_subjects_resolve_against_the_database(
    session_factory: SessionFactory, tmp_path: Path
):
    import_ok(session_factory, write_bundle(tmp_path / "first"))
    people_header = BUNDLE["people.csv"].splitlines()[0]
    second = {name: None for name in BUNDLE} | {
        "people.csv": f"{people_header}\nP4,Dee,Lee,1002,,,,,,\n",
        "enrollments.csv": "personId,calendarId,grade,startDate,endDate\nP4,C1,01,,\n",
        "householdMembers.csv": "householdId,personId,startDate,endDate\nH1,P4,,\n",
        "preferences.csv": f"{PREFERENCES_HEADER}\n"
        "person,P2,workPhone,5550003,1,1,0,0,0,0,0,0,\n"
        "household,H1,householdPhone,5559000,1,1,0,0,0,0,1,0,emergency\n",
    }

    summary = import_ok(session_factory, write_bundle(tmp_path / "second", second))

    assert summary == ImportSummary(
        people=FileCounts(inserted=1),
        household_members=FileCounts(inserted=1),
        enrollments=FileCounts(inserted=1),
        preferences=FileCounts(updated=1, unchanged=1),
    )
    with session_factory.begin() as session:
        assert stored_preferences(session)[("P2", 2)] == (0b11, ("import", "import", *(0,) * 6))


def test_import_keeps_the_setter_of_an_equal_value(session_factory: SessionFactory, tmp_path: Path):
    """A value that a batch set to what the file says keeps the batch as its setter; a value
    that differs, or whose guardian-ness differs, takes the import's setter."""
    bundle = write_bundle(tmp_path)
    import_ok(session_factory, bundle)
    with session_factory.begin() as session:
        h1 = session.scalar(select(Household.id).where(Household.ext_id == "H1"))
        session.execute(
            update(preferences)
            .where(preferences.c.subject_id == h1, preferences.c.channel == 0)
            .values(
                mask=0b0100_0011 | 0b1000,  # staff on as well
                setter_emergency=42,  # same value, but no longer a guardian's
                setter_attendance=42,  # same value, same (non-guardian) kind
                setter_staff=42,
            )
        )

    summary = import_ok(session_factory, bundle)

    assert summary.preferences == FileCounts(updated=1, unchanged=2)
    with session_factory.begin() as session:
        assert stored_preferences(session)[("H1", 0)] == (
            0b0100_0011,
            ("guardian", 42, 0, "import", 0, 0, "import", 0),
        )


def test_import_changes_only_reasons_that_differ(session_factory: SessionFactory, tmp_path: Path):
    import_ok(session_factory, write_bundle(tmp_path / "first"))
    with session_factory.begin() as session:
        h1 = session.scalar(select(Household.id).where(Household.ext_id == "H1"))
        old_setters = (7, -2, -2, 0, -1, 7, 0, -3)
        session.execute(
            update(preferences)
            .where(preferences.c.subject_id == h1, preferences.c.channel == 0)
            .values(mask=0b0000_0111, **dict(zip(SETTER_COLUMNS, old_setters, strict=True)))
        )
    changes = replacing(
        "preferences.csv",
        "household,H1,householdPhone,5559000,1,1,0,0,0,0,1,0,emergency",
        "household,H1,householdPhone,5559000,1,1,1,1,0,0,0,0,behavior|staff",
    )

    summary = import_ok(session_factory, write_bundle(tmp_path / "second", changes))

    assert summary.preferences == FileCounts(updated=1, unchanged=2)
    with session_factory.begin() as session:
        # emergency: same value, not a guardian's -> keeps 7; attendance: a guardian's, now not
        # -> import; behavior: same value, still a guardian's -> kept; staff: turned on by a
        # guardian -> guardian; general, foodService, priority, teacher: as they were
        assert stored_preferences(session)[("H1", 0)] == (
            0b0000_1111,
            (7, "import", "guardian", "guardian", "import", 7, 0, "staff"),
        )


# --- bad input: the exact problem, and nothing written -------------------------------------

PEOPLE_HEADER = BUNDLE["people.csv"].splitlines()[0]
BAD_INPUT: dict[str, tuple[dict[str, str | None], list[str]]] = {
    "bad date": (
        replacing("enrollments.csv", "P1,C1,03,2025-08-19,", "P1,C1,03,2025-13-19,"),
        ["enrollments.csv:2: startDate: '2025-13-19' is not a date (YYYY-MM-DD)"],
    ),
    "date in another format": (
        replacing("calendars.csv", "2026-06-04", "06/04/2026"),
        ["calendars.csv:2: endDate: '06/04/2026' is not a date (YYYY-MM-DD)"],
    ),
    "bad boolean": (
        replacing("relationships.csv", "Father,true,true", "Father,yes,TRUE"),
        [
            "relationships.csv:2: guardian: 'yes' is not true or false",
            "relationships.csv:2: messenger: 'TRUE' is not true or false",
        ],
    ),
    "bad school year": (
        replacing("calendars.csv", "North 2025-26,2025-26", "North 2025-26,2025-27"),
        ["calendars.csv:2: schoolYear: '2025-27' is not a school year like 2025-26"],
    ),
    "empty required cell": (
        replacing("people.csv", "P2,Bob,Lee", "P2,,Lee"),
        ["people.csv:3: firstName: required, but empty"],
    ),
    "too long": (
        with_rows("schools.csv", f"{'S' * 65},Far Away"),
        ["schools.csv:4: schoolId: longer than 64 characters"],
    ),
    "bad email": (
        replacing("people.csv", "cy2@example.org", "cy2 at example.org"),
        ["people.csv:4: secondaryEmail: 'cy2 at example.org' is not an email address"],
    ),
    "missing column": (
        {"households.csv": "householdId,name\nH1,Lee Household\nH2,Day Household\n"},
        ["households.csv:1: phone: missing column"],
    ),
    "unknown and repeated columns": (
        {"schools.csv": "schoolId,name,principal,name,\nS1,North,Kim,North,\nS2,South,Li,South,\n"},
        [
            "schools.csv:1: principal: unknown column",
            "schools.csv:1: name: the column appears twice",
            "schools.csv:1: (header): column 5 has no name",
        ],
    ),
    "wrong number of cells": (
        with_rows("households.csv", "H3,Third,5559003,extra"),
        ["households.csv:4: (row): 4 cells, but the header has 3"],
    ),
    "empty file": (
        {"schools.csv": ""},
        [
            "schools.csv:1: (header): the file is empty; a header row is required",
            "calendars.csv:2: schoolId: unknown school 'S1'",
            "calendars.csv:3: schoolId: unknown school 'S2'",
            "districtAssignments.csv:2: schoolId: unknown school 'S1'",
        ],
    ),
    "missing identifier column": (
        {"people.csv": BUNDLE["people.csv"].replace("personId,", "person,", 1)},
        [
            "people.csv:1: person: unknown column",
            "people.csv:1: personId: missing column",
        ],
    ),
    "duplicate identifier": (
        with_rows("schools.csv", "S1,North Again"),
        ["schools.csv:4: schoolId: duplicate of line 2 (same schoolId)"],
    ),
    "duplicate natural key": (
        with_rows("householdMembers.csv", "H1,P1,,2026-01-01"),
        [
            "householdMembers.csv:5: householdId: duplicate of line 2 "
            "(same householdId, personId, startDate)"
        ],
    ),
    "unknown references": (
        with_rows("enrollments.csv", "P9,C9,01,,")
        | with_rows("relationships.csv", "P1,P8,Aunt,false,true,,")
        | with_rows("districtAssignments.csv", "P2,S9,Aide,,"),
        [
            "enrollments.csv:4: personId: unknown person 'P9'",
            "enrollments.csv:4: calendarId: unknown calendar 'C9'",
            "relationships.csv:4: contactId: unknown person 'P8'",
            "districtAssignments.csv:4: schoolId: unknown school 'S9'",
        ],
    ),
    "bad preference cells": (
        with_rows(
            "preferences.csv",
            "staff,P1,homePhone,5550001,1,0,0,0,0,0,0,0,",
            "person,P1,textMessage,5550002,1,0,0,0,0,0,0,0,",
            "person,P1,pager,5550002,1,0,0,0,0,0,0,0,",
            "person,P2,workPhone,5550003,2,0,0,0,0,0,0,,",
            "person,P3,secondaryEmail,cy2@example.org,0,0,0,0,0,0,0,0,x",
        ),
        [
            "preferences.csv:5: subjectType: 'staff' is not person or household",
            "preferences.csv:6: channel: 'textMessage': text-message preferences cannot be "
            "imported",
            "preferences.csv:7: channel: unknown channel 'pager'",
            "preferences.csv:8: emergency: '2' is not 0 or 1",
            "preferences.csv:8: teacher: required, but empty",
            "preferences.csv:9: guardianSet: unknown reason 'x'",
        ],
    ),
    "bad guardian sets": (
        with_rows(
            "preferences.csv",
            "person,P1,homePhone,5550001,1,0,0,0,0,0,0,0,sms",
            "person,P1,email,ann@example.org,1,0,0,0,0,0,0,0,emergency||staff",
            "person,P2,workPhone,5550003,1,0,0,0,0,0,0,0,staff|emergency|staff",
        ),
        [
            "preferences.csv:5: guardianSet: 'sms': text-message preferences cannot be imported",
            "preferences.csv:6: guardianSet: an empty reason in 'emergency||staff'",
            "preferences.csv:7: guardianSet: 'staff' appears twice",
        ],
    ),
    "preference subjects and addresses": (
        with_rows(
            "preferences.csv",
            "person,P9,email,p9@example.org,1,0,0,0,0,0,0,0,",
            "household,H2,householdPhone,5559002,1,0,0,0,0,0,0,0,",
            "person,P2,cellPhone,5550003,1,0,0,0,0,0,0,0,",
            "person,P1,homePhone,5550009,1,0,0,0,0,0,0,0,",
            "person,P1,email,,1,0,0,0,0,0,0,0,",
            "person,P1,householdPhone,5559000,1,0,0,0,0,0,0,0,",
            "household,H1,homePhone,5559000,1,0,0,0,0,0,0,0,",
            "household,P1,householdPhone,5559000,1,0,0,0,0,0,0,0,",
        ),
        [
            "preferences.csv:5: subjectId: unknown person 'P9'",
            "preferences.csv:6: address: household 'H2' has no householdPhone",
            "preferences.csv:7: address: person 'P2' has no cellPhone",
            "preferences.csv:8: address: '5550009' does not match the homePhone of person 'P1', "
            "'5550001'",
            "preferences.csv:9: address: '' does not match the email of person 'P1', "
            "'ann@example.org'",
            "preferences.csv:10: channel: householdPhone is for households only",
            "preferences.csv:11: channel: a household has only householdPhone",
            "preferences.csv:12: subjectId: unknown household 'P1'",
        ],
    ),
    "duplicate preference row": (
        with_rows("preferences.csv", "person,P1,cellPhone,5550002,0,0,0,0,0,0,0,0,"),
        [
            "preferences.csv:5: subjectType: duplicate of line 3 "
            "(same subjectType, subjectId, channel)"
        ],
    ),
    "not a leap year": (
        replacing("enrollments.csv", "P1,C1,03,2025-08-19,", "P1,C1,03,2025-02-29,"),
        ["enrollments.csv:2: startDate: '2025-02-29' is not a date (YYYY-MM-DD)"],
    ),
    "duplicate person with other addresses": (
        # The first row of an identifier stands for it: P1's home phone is that of line 2.
        with_rows("people.csv", "P1,Ann,Lee,1001,,5550009,,,,"),
        ["people.csv:5: personId: duplicate of line 2 (same personId)"],
    ),
    "not UTF-8": (
        {},  # written as bytes by the test
        ["people.csv:3: (row): not valid UTF-8"],
    ),
}


@pytest.mark.parametrize("case", BAD_INPUT, ids=list(BAD_INPUT))
def test_bad_input_is_reported_exactly_and_nothing_is_written(
    session_factory: SessionFactory, tmp_path: Path, case: str
):
    changes, problems = BAD_INPUT[case]
    bundle = write_bundle(tmp_path, changes)
    if case == "not UTF-8":
        people = BUNDLE["people.csv"].encode().replace(b"Bob", b"B\xffb")
        (bundle / "people.csv").write_bytes(people)

    with session_factory.begin() as session:
        with pytest.raises(ImportFailed) as failed:
            import_bundle(session, bundle)
        assert failed.value.problems == problems
        assert set(row_counts(session).values()) == {0}


def test_every_problem_at_once_in_file_and_line_order(
    session_factory: SessionFactory, tmp_path: Path
):
    changes = (
        replacing("people.csv", "P2,Bob,Lee", "P2,,Lee")
        | replacing("schools.csv", "S2,South High", "S2,")
        | with_rows("enrollments.csv", "P1,C1,1st,tomorrow,")
        | with_rows("preferences.csv", "person,P1,homePhone,5550001,1,0,0,0,0,0,0,0,bogus")
    )

    with session_factory.begin() as session:
        with pytest.raises(ImportFailed) as failed:
            import_bundle(session, write_bundle(tmp_path, changes))
        assert set(row_counts(session).values()) == {0}

    assert failed.value.problems == [
        "schools.csv:3: name: required, but empty",
        "people.csv:3: firstName: required, but empty",
        "enrollments.csv:4: startDate: 'tomorrow' is not a date (YYYY-MM-DD)",
        "preferences.csv:5: guardianSet: unknown reason 'bogus'",
    ]
    assert str(failed.value) == "\n".join(failed.value.problems)


def test_a_bad_reimport_leaves_the_database_as_it_was(
    session_factory: SessionFactory, tmp_path: Path
):
    import_ok(session_factory, write_bundle(tmp_path / "good"))
    changes = replacing("people.csv", "P2,Bob,Lee", "P2,Robert,Lee") | with_rows(
        "enrollments.csv", "P1,C1,03,2025-02-30,"
    )

    with session_factory.begin() as session:
        counts_before = row_counts(session)
        with pytest.raises(ImportFailed) as failed:
            import_bundle(session, write_bundle(tmp_path / "bad", changes))
        assert failed.value.problems == [
            "enrollments.csv:4: startDate: '2025-02-30' is not a date (YYYY-MM-DD)"
        ]
        assert row_counts(session) == counts_before
        assert session.scalar(select(Person.first_name).where(Person.ext_id == "P2")) == "Bob"
        assert export(session) == EXPORT


def test_people_csv_is_required(session_factory: SessionFactory, tmp_path: Path):
    bundle = write_bundle(tmp_path, {"people.csv": None, "preferences.csv": None})
    with session_factory.begin() as session:
        with pytest.raises(ImportFailed) as failed:
            import_bundle(session, bundle)
    assert failed.value.problems[0] == (
        f"people.csv:0: (file): missing from {bundle}; every bundle needs it"
    )


def test_line_numbers_are_physical_lines(session_factory: SessionFactory, tmp_path: Path):
    """A quoted cell may span lines; blank lines count too; the header is line 1."""
    people = (
        f"{PEOPLE_HEADER}\n"
        'P1,Ann,"Lee\nSmith",1001,,5550001,,5550002,ann@example.org,\n'
        "\n"
        "P2,Bob,Lee,,,,5550003,,,not-an-email\n"
    )
    only_people = {name: None for name in BUNDLE} | {"people.csv": people}
    with session_factory.begin() as session:
        with pytest.raises(ImportFailed) as failed:
            import_bundle(session, write_bundle(tmp_path, only_people))
    assert failed.value.problems == [
        "people.csv:5: secondaryEmail: 'not-an-email' is not an email address"
    ]


def test_cells_are_trimmed_and_a_byte_order_mark_is_ignored(
    session_factory: SessionFactory, tmp_path: Path
):
    people = f"\ufeff{PEOPLE_HEADER}\n P1 ,\tAnn\u00a0,Lee,,,,,,,\n"
    only_people = {name: None for name in BUNDLE} | {"people.csv": people}

    summary = import_ok(session_factory, write_bundle(tmp_path, only_people))

    assert summary == ImportSummary(people=FileCounts(inserted=1))
    with session_factory.begin() as session:
        assert session.execute(select(Person.ext_id, Person.first_name)).one() == ("P1", "Ann")


def test_an_empty_start_date_matches_like_any_value(
    session_factory: SessionFactory, tmp_path: Path
):
    """An empty startDate is a key value like any other: the file's row matches the
    database's row with no start date instead of adding another."""
    import_ok(session_factory, write_bundle(tmp_path / "first"))
    with session_factory.begin() as session:
        p1 = session.scalar(select(Person.id).where(Person.ext_id == "P1"))
        h1 = session.scalar(select(Household.id).where(Household.ext_id == "H1"))
        session.execute(
            insert(HouseholdMember).values(household_id=h1, person_id=p1, end_date=None)
        )  # a second (H1, P1, no start) row, as NULLs in a unique constraint allow

    summary = import_ok(session_factory, write_bundle(tmp_path / "second"))

    assert summary.household_members == FileCounts(unchanged=3)
    with session_factory.begin() as session:
        assert row_counts(session)["household_members"] == 4


def test_columns_in_another_order_are_read_the_same(
    session_factory: SessionFactory, tmp_path: Path
):
    def reversed_columns(text: str) -> str:
        return "".join(",".join(line.split(",")[::-1]) + "\n" for line in text.splitlines())

    reordered = {name: reversed_columns(BUNDLE[name]) for name in ("people.csv", "preferences.csv")}

    assert import_ok(session_factory, write_bundle(tmp_path / "good", reordered)) == FIRST_IMPORT
    with session_factory.begin() as session:
        assert export(session) == EXPORT

    long_phone = reversed_columns(f"{PEOPLE_HEADER}\nP4,Dee,Lee,,,{'5' * 40},,,,\n")
    with session_factory.begin() as session:
        with pytest.raises(ImportFailed) as failed:
            import_bundle(session, write_bundle(tmp_path / "bad", {"people.csv": long_phone}))
    assert failed.value.problems == ["people.csv:2: homePhone: longer than 32 characters"]


def test_quoted_cells_are_read_as_csv(session_factory: SessionFactory, tmp_path: Path):
    changes = replacing("people.csv", "P2,Bob,Lee,", 'P2,"Bob ""Bobby""","Lee, Jr.",') | replacing(
        "households.csv", "H2,Day Household,", '"H2","Day\nHousehold",'
    )

    assert import_ok(session_factory, write_bundle(tmp_path, changes)) == FIRST_IMPORT
    with session_factory.begin() as session:
        p2 = session.execute(
            select(Person.first_name, Person.last_name).where(Person.ext_id == "P2")
        )
        assert p2.one() == ('Bob "Bobby"', "Lee, Jr.")
        h2 = session.scalar(select(Household.name).where(Household.ext_id == "H2"))
        assert h2 == "Day\nHousehold"


def test_a_leap_day_is_a_date(session_factory: SessionFactory, tmp_path: Path):
    changes = replacing("enrollments.csv", "P1,C1,03,2025-08-19,", "P1,C1,03,2024-02-29,")

    import_ok(session_factory, write_bundle(tmp_path, changes))

    with session_factory.begin() as session:
        starts = session.scalars(select(Enrollment.start_date).order_by(Enrollment.id))
        assert list(starts) == [date(2024, 2, 29), None]


def test_many_rows_are_staged_in_batches(
    session_factory: SessionFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(staging, "BATCH", 2)

    assert import_ok(session_factory, write_bundle(tmp_path)) == FIRST_IMPORT
    with session_factory.begin() as session:
        assert export(session) == EXPORT


def test_an_import_after_a_failed_one_in_the_same_transaction(
    session_factory: SessionFactory, tmp_path: Path
):
    bad = write_bundle(tmp_path / "bad", replacing("people.csv", "P2,Bob,Lee", "P2,,Lee"))
    with session_factory.begin() as session:
        with pytest.raises(ImportFailed):
            import_bundle(session, bad)
        assert import_bundle(session, write_bundle(tmp_path / "good")) == FIRST_IMPORT


CONSTRAINTS = """
SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint
WHERE connamespace = 'public'::regnamespace ORDER BY 1, 2
"""
INDEXES = """
SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY 1, 2
"""


def test_a_first_import_leaves_constraints_and_indexes_as_they_were(
    pg_session_factory: SessionFactory, tmp_path: Path
):
    """Filling an empty table drops its foreign keys and secondary indexes for the load."""
    with pg_session_factory.begin() as session:
        before = [session.execute(sql(query)).all() for query in (CONSTRAINTS, INDEXES)]

    import_ok(pg_session_factory, write_bundle(tmp_path))

    with pg_session_factory.begin() as session:
        assert [session.execute(sql(query)).all() for query in (CONSTRAINTS, INDEXES)] == before
        with pytest.raises(IntegrityError):  # and they hold
            with session.begin_nested():
                session.execute(insert(Enrollment).values(person_id=10**6, calendar_id=1))


CELLS = [
    *("", " ", "x", " x", "x ", "\tx", "x\u00a0", "x\x1f", "a,b"),
    *("a" * n for n in (16, 17, 32, 33, 64, 65, 100, 101, 200, 201, 254, 255)),
    *("true", "false", "TRUE", "0", "1", "2", "01", "person", "household", "staff"),
    *("cellPhone", "textMessage", "pager", "2024-02-29", "2025-02-29", "2025-13-01", "2025-1-01"),
    *("0000-01-01", "2025-26", "2025-27", "ann@example.org", "ann at example.org", "a b@c"),
    *("@b", "a@", "a@b c", "emergency|teacher", "teacher|emergency", "emergency||staff"),
    *("staff|staff", "sms", "emergency|", "a" * 248 + "@b.org", "a" * 249 + "@b.org"),
]


@pytest.mark.parametrize("spec", SPECS, ids=[spec.name for spec in SPECS])
def test_the_fast_path_passes_only_rows_that_the_checks_pass(spec: FileSpec):
    good = BUNDLE[spec.name].splitlines()[1].split(",")
    assert [cell_problem(fld, cell) for fld, cell in zip(spec.fields, good, strict=True)] == [
        None
    ] * len(good)
    test = RowTest(spec.fields)
    assert test(",".join(good), good)
    for k, fld in enumerate(spec.fields):
        for cell in CELLS:
            cells = [*good[:k], cell, *good[k + 1 :]]
            if test(",".join(cells), cells):
                assert (cell.strip(), cell_problem(fld, cell)) == (cell, None), fld.column
