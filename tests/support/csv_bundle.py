"""The small CSV bundle the import tests share: its files, what importing it writes and
exports, and helpers that change it, import it, and read back what was written."""

from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shared.core.db import SessionFactory
from shared.imports.native import FileCounts, ImportSummary, import_bundle
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

Row = tuple[Any, ...]
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


PEOPLE_HEADER = BUNDLE["people.csv"].splitlines()[0]


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


def _ext(model: Any, column: Any) -> Any:
    return select(model.ext_id).where(model.id == column).scalar_subquery()


def tables(session: Session) -> dict[str, list[Row]]:
    """Every table an import writes, each row with its references as district identifiers."""
    statements = {
        "schools": select(School.ext_id, School.name),
        "calendars": select(
            Calendar.ext_id,
            _ext(School, Calendar.school_id),
            Calendar.name,
            Calendar.school_year,
            Calendar.start_date,
            Calendar.end_date,
        ),
        "persons": select(
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
        ),
        "households": select(Household.ext_id, Household.name, Household.phone),
        "members": select(
            _ext(Household, HouseholdMember.household_id),
            _ext(Person, HouseholdMember.person_id),
            HouseholdMember.start_date,
            HouseholdMember.end_date,
        ),
        "enrollments": select(
            _ext(Person, Enrollment.person_id),
            _ext(Calendar, Enrollment.calendar_id),
            Enrollment.grade,
            Enrollment.start_date,
            Enrollment.end_date,
        ),
        "relationships": select(
            _ext(Person, Relationship.student_id),
            _ext(Person, Relationship.contact_id),
            Relationship.name,
            Relationship.guardian,
            Relationship.messenger,
            Relationship.start_date,
            Relationship.end_date,
        ),
        "assignments": select(
            _ext(Person, DistrictAssignment.person_id),
            _ext(School, DistrictAssignment.school_id),
            DistrictAssignment.title,
            DistrictAssignment.start_date,
            DistrictAssignment.end_date,
        ),
    }
    return {
        name: sorted(
            (tuple(row) for row in session.execute(statement)),
            key=lambda row: tuple("" if cell is None else str(cell) for cell in row),
        )
        for name, statement in statements.items()
    }


LINKS = ("members", "enrollments", "relationships", "assignments")


def links(session: Session) -> dict[str, list[tuple[Any, ...]]]:
    """The links between entities: household members, enrollments, relationships and
    assignments, by district identifiers."""
    return {name: rows for name, rows in tables(session).items() if name in LINKS}


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
