"""OneRoster bundles imported into the database in tests: copies of the hand-written fixture
bundles (tests/fixtures/oneroster) with files changed, the import run in its own transaction,
and every table read back as sorted tuples of district identifiers and values."""

import shutil
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from shared.core.db import SessionFactory
from shared.core.errors import ImportFailed
from shared.core.vocabulary import ImportFormat
from shared.imports.runner import ImportReport, run_import
from shared.models import (
    Calendar,
    DistrictAssignment,
    Enrollment,
    Household,
    HouseholdMember,
    Person,
    QuarantinedAddress,
    Relationship,
    School,
    preferences,
)
from tests.support.csv_bundle import Row, tables

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "oneroster"
VERSIONS = ["v1p1", "v1p2"]
TODAY = date(2025, 9, 1)
UNKNOWN_AGENT = "users.csv:4: agentSourcedIds: 'u-x999' names no user in the bundle; skipped"
HH_DIAZ_CHEN = "hh-7bf1e6a36b3cf532c70d"  # the guardians u-p200 and u-p201
HH_CHEN = "hh-e0da3f395da17de722c8"  # the guardian u-p201 alone

Counts = tuple[int, int, int, int]  # added, updated, unchanged, ended


def d(text: str) -> date:
    return date.fromisoformat(text)


SCHOOLS = [("s1", "Lakeside Elementary"), ("s2", "Hilltop Middle")]
CALENDARS = [
    ("s1-sy26", "s1", "2025-2026", "2025-26", d("2025-08-18"), d("2026-06-05")),
    ("s2-sy26", "s2", "2025-2026", "2025-26", d("2025-08-18"), d("2026-06-05")),
]


def person(cells: str) -> Row:
    """A person row from its people.csv cells: an empty cell is None."""
    return tuple(cell or None for cell in cells.split(","))


# ext_id, first and last name, student and staff number, home, work and cell phone, e-mails
PERSONS = [
    person("u-a500,Sam,Ortiz,,A500,,,,sam.ortiz@lakeside.example,"),
    person("u-p200,Rosa,Diaz,,,6125550101,,6125550100,rosa.diaz@example.org,"),
    person("u-p201,Wei,Chen,,,6125550102,,,wei.chen@example.org,"),
    person("u-r300,Carmen,Lopez,,,6125550103,,,,"),
    person("u-s100,Ava,Diaz,100100,,,,,ava.diaz@students.lakeside.example,"),
    person("u-s101,Leo,Diaz,100101,,,,,,"),
    person("u-s102,Mia,Chen,100102,,,,,,"),
    person("u-t400,Jo,Park,,T400,,,6125550104,jo.park@lakeside.example,"),
]
HOUSEHOLDS = [(HH_DIAZ_CHEN, "Diaz / Chen household", None), (HH_CHEN, "Chen household", None)]
MEMBERS = [
    (HH_DIAZ_CHEN, "u-p200", None, None),
    (HH_DIAZ_CHEN, "u-p201", None, None),
    (HH_DIAZ_CHEN, "u-s100", None, None),
    (HH_DIAZ_CHEN, "u-s101", None, None),
    (HH_CHEN, "u-p201", None, None),
    (HH_CHEN, "u-s102", None, None),
]
ENROLLMENTS = [
    ("u-s100", "s1-sy26", "03", d("2025-08-18"), d("2026-06-05")),
    ("u-s101", "s1-sy26", "05", d("2025-08-18"), None),
    ("u-s102", "s2-sy26", "07", d("2025-08-25"), d("2025-10-17")),
]
RELATIONSHIPS = [
    ("u-s100", "u-p200", "Parent", True, True, None, None),
    ("u-s100", "u-p201", "Guardian", True, True, None, None),
    ("u-s101", "u-p200", "Parent", True, True, None, None),
    ("u-s101", "u-p201", "Guardian", True, True, None, None),
    ("u-s102", "u-p201", "Guardian", True, True, None, None),
    ("u-s102", "u-r300", "Relative", False, False, None, None),
]
ASSIGNMENTS: dict[str, list[Row]] = {
    "v1p1": [
        ("u-a500", None, "administrator", None, None),
        ("u-t400", "s1", "teacher", None, None),
    ],
    "v1p2": [
        ("u-a500", None, "districtAdministrator", d("2024-07-01"), None),
        ("u-t400", "s1", "teacher", d("2025-08-11"), d("2026-06-12")),
        ("u-t400", "s2", "teacher", d("2025-08-11"), None),
    ],
}


def clean_tables(version: str) -> dict[str, list[Row]]:
    """What importing the fixture bundle `version` writes, table by table."""
    return {
        "schools": SCHOOLS,
        "calendars": CALENDARS,
        "persons": PERSONS,
        "households": HOUSEHOLDS,
        "members": MEMBERS,
        "enrollments": ENROLLMENTS,
        "relationships": RELATIONSHIPS,
        "assignments": ASSIGNMENTS[version],
    }


def first_files(version: str) -> dict[str, Counts]:
    """The report's files of the fixture bundle imported into an empty database."""
    return {
        "schools.csv": (2, 0, 0, 0),
        "calendars.csv": (2, 0, 0, 0),
        "people.csv": (8, 0, 0, 0),
        "households.csv": (2, 0, 0, 0),
        "householdMembers.csv": (6, 0, 0, 0),
        "enrollments.csv": (3, 0, 0, 0),
        "relationships.csv": (6, 0, 0, 0),
        "districtAssignments.csv": (len(ASSIGNMENTS[version]), 0, 0, 0),
        "preferences.csv": (0, 0, 0, 0),
    }


def same_files(version: str, **changes: Counts) -> dict[str, Counts]:
    """The report's files of the fixture bundle imported again: every row unchanged, but for
    `changes` (file names with `.csv` left out)."""
    unchanged = {name: (0, 0, added, 0) for name, (added, *_) in first_files(version).items()}
    return unchanged | {f"{name}.csv": counts for name, counts in changes.items()}


def fixture_text(version: str, name: str) -> str:
    return (FIXTURES / version / name).read_text(encoding="utf-8")


def without_lines(text: str, *starts: str) -> str:
    """The text without the lines that start with any of `starts`."""
    kept = [line for line in text.splitlines(keepends=True) if not line.startswith(starts)]
    assert len(kept) == len(text.splitlines()) - len(starts), starts
    return "".join(kept)


def replaced(text: str, *pairs: tuple[str, str]) -> str:
    for old, new in pairs:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    return text


def bundle(
    folder: Path, version: str = "v1p1", files: dict[str, str | bytes | None] | None = None
) -> Path:
    """A copy of a fixture bundle in `folder` (made), some files replaced or left out (None)."""
    shutil.copytree(FIXTURES / version, folder)
    for name, content in (files or {}).items():
        if content is None:
            (folder / name).unlink()
        elif isinstance(content, bytes):
            (folder / name).write_bytes(content)
        else:
            (folder / name).write_bytes(content.encode("utf-8"))
    return folder


def run(factory: SessionFactory, path: Path, today: date = TODAY) -> ImportReport:
    with factory.begin() as session:
        return run_import(session, ImportFormat.ONEROSTER, path, today=today)


def problems(factory: SessionFactory, path: Path) -> list[str]:
    """The problems of a bundle that must fail."""
    with pytest.raises(ImportFailed) as failed, factory.begin() as session:
        run_import(session, ImportFormat.ONEROSTER, path, today=TODAY)
    return failed.value.problems


def files(report: ImportReport) -> dict[str, Counts]:
    return {name: (c.added, c.updated, c.unchanged, c.ended) for name, c in report.files.items()}


def findings(report: ImportReport) -> list[str]:
    return [f"{finding.kind}: {finding}" for finding in report.findings]


def read_tables(factory: SessionFactory) -> dict[str, list[Row]]:
    with factory.begin() as session:
        return tables(session)


COUNTED = (
    School,
    Calendar,
    Person,
    Household,
    HouseholdMember,
    Enrollment,
    Relationship,
    DistrictAssignment,
    QuarantinedAddress,
)


def row_counts(factory: SessionFactory) -> dict[str, int]:
    """How many rows each table an import writes holds."""
    with factory.begin() as session:
        counts = {
            model.__tablename__: session.scalar(select(func.count()).select_from(model)) or 0
            for model in COUNTED
        }
        counts["preferences"] = session.scalar(select(func.count()).select_from(preferences)) or 0
    return counts


NOTHING = {model.__tablename__: 0 for model in COUNTED} | {"preferences": 0}
