"""The synthetic district (`cpb seed`): a complete bundle that imports cleanly, the same for the
same seed, and with the variety batches need (shared households, staff parents, gaps)."""

import csv
from collections import Counter
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from shared.core.db import SessionFactory
from shared.imports.demo import load_demo, write_demo_bundle
from shared.imports.native import FileCounts, import_bundle
from shared.imports.native.formats import SPECS
from shared.models import Enrollment, Person, preferences
from shared.people.export import iter_preferences_csv

TODAY = date(2025, 10, 15)


def read(directory: Path, name: str) -> list[dict[str, str]]:
    with (directory / name).open(encoding="utf-8", newline="") as stream:
        return list(csv.DictReader(stream))


@pytest.fixture(scope="module")
def district(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("demo")
    write_demo_bundle(directory, students=3000, seed=7, today=TODAY)
    return directory


def test_every_file_with_its_header(district: Path):
    for spec in SPECS:
        with (district / spec.name).open(encoding="utf-8", newline="") as stream:
            assert next(csv.reader(stream)) == list(spec.columns), spec.name


def test_exactly_the_students_asked_for_each_enrolled_this_year(district: Path):
    people = read(district, "people.csv")
    students = {p["personId"] for p in people if p["studentNumber"]}
    assert len(students) == 3000
    calendars = {c["calendarId"]: c["schoolYear"] for c in read(district, "calendars.csv")}
    assert Counter(calendars.values()) == {
        "2024-25": 5,
        "2025-26": 5,
    }  # 3 elementary, 1 middle, 1 high
    this_year = Counter(
        e["personId"]
        for e in read(district, "enrollments.csv")
        if calendars[e["calendarId"]] == "2025-26"
    )
    assert set(this_year) == students
    assert set(this_year.values()) == {1}


def test_the_variety_a_district_has(district: Path):
    people = {p["personId"]: p for p in read(district, "people.csv")}
    schools = read(district, "schools.csv")
    relationships = read(district, "relationships.csv")
    assignments = read(district, "districtAssignments.csv")
    households = read(district, "households.csv")
    members = read(district, "householdMembers.csv")
    prefs = read(district, "preferences.csv")

    assert {s["name"].split()[1] for s in schools} == {"Elementary", "Middle", "High"}
    children = Counter(r["contactId"] for r in relationships if r["guardian"] == "true")
    assert max(children.values()) >= 3  # parents of several students
    staff = {a["personId"] for a in assignments}
    assert staff & set(children)  # staff who are parents
    assert any(a["endDate"] for a in assignments)
    assert any(not a["schoolId"] for a in assignments)
    assert any(r["endDate"] for r in relationships)
    assert any(r["messenger"] == "false" for r in relationships)
    assert any(r["guardian"] == "false" and r["messenger"] == "true" for r in relationships)
    assert any(r["studentId"] == r["contactId"] for r in relationships)  # emancipated
    assert any(not h["phone"] for h in households)
    in_two = Counter(m["personId"] for m in members if people[m["personId"]]["studentNumber"])
    assert max(in_two.values()) == 2  # parents apart: a child in both households
    for column in ("homePhone", "workPhone", "cellPhone", "email", "secondaryEmail"):
        assert Counter(bool(p[column]) for p in people.values()).keys() == {True, False}
    assert any(p["guardianSet"] for p in prefs)
    assert any(p["subjectType"] == "household" and p["guardianSet"] for p in prefs)
    addressed = sum(
        1
        for p in people.values()
        for c in ("homePhone", "workPhone", "cellPhone", "email", "secondaryEmail")
        if p[c]
    ) + sum(1 for h in households if h["phone"])
    assert len(prefs) < addressed  # the rest are left to the import's default rows


def test_the_shape_of_a_real_district(district: Path):
    """About 1.6 students per household, and one or two guardians for every student (exact
    for this seed)."""
    students = {p["personId"] for p in read(district, "people.csv") if p["studentNumber"]}
    households = read(district, "households.csv")
    guardians = Counter(
        r["studentId"] for r in read(district, "relationships.csv") if r["guardian"] == "true"
    )
    # 1.61 students per household; 69% of students with two guardians, the rest with one.
    assert (len(students), len(households)) == (3000, 1866)
    assert set(guardians) == students
    assert Counter(guardians.values()) == {2: 2080, 1: 920}


def test_the_same_seed_writes_the_same_files(tmp_path: Path, district: Path):
    write_demo_bundle(tmp_path / "again", students=3000, seed=7, today=TODAY)
    write_demo_bundle(tmp_path / "other", students=3000, seed=8, today=TODAY)
    for spec in SPECS:
        same = (tmp_path / "again" / spec.name).read_bytes()
        assert same == (district / spec.name).read_bytes(), spec.name
    other = (tmp_path / "other" / "people.csv").read_bytes()
    assert other != (district / "people.csv").read_bytes()


@pytest.mark.parametrize(
    ("today", "years"),
    [
        (date(2026, 6, 5), ["2024-25", "2025-26"]),  # the last day of the year
        (date(2026, 6, 6), ["2025-26", "2026-27"]),  # summer: the next year is current
        (date(2027, 1, 10), ["2025-26", "2026-27"]),
    ],
)
def test_school_years_follow_today(tmp_path: Path, today: date, years: list[str]):
    write_demo_bundle(tmp_path, students=10, seed=1, today=today)
    calendars = read(tmp_path, "calendars.csv")
    assert sorted({c["schoolYear"] for c in calendars}) == years
    current = [c for c in calendars if c["schoolYear"] == years[1]]
    assert {date.fromisoformat(c["endDate"]) >= today for c in current} == {True}


def test_the_demo_imports_cleanly_and_reimports_unchanged(
    session_factory: SessionFactory, tmp_path: Path
):
    write_demo_bundle(tmp_path, students=300, seed=1, today=TODAY)
    rows = {spec.name: len(read(tmp_path, spec.name)) for spec in SPECS}

    with session_factory.begin() as session:
        first = import_bundle(session, tmp_path)
    with session_factory.begin() as session:
        exported = "".join(iter_preferences_csv(session))
        again = import_bundle(session, tmp_path)
        assert "".join(iter_preferences_csv(session)) == exported

    assert first.people == FileCounts(inserted=rows["people.csv"])
    assert first.relationships == FileCounts(inserted=rows["relationships.csv"])
    assert first.preferences == FileCounts(inserted=rows["preferences.csv"])
    assert first.preference_rows_created == len(exported.splitlines()) - 1
    assert again.changed_nothing is True
    assert again.enrollments == FileCounts(unchanged=rows["enrollments.csv"])


def test_load_demo(session_factory: SessionFactory):
    with session_factory.begin() as session:
        summary = load_demo(session, students=50, seed=3, today=TODAY)
        students = session.scalar(
            select(func.count()).select_from(Person).where(Person.student_number.is_not(None))
        )
        current = session.scalar(
            select(func.count(func.distinct(Enrollment.person_id))).where(
                Enrollment.end_date.is_(None)
            )
        )
        created = session.scalar(select(func.count()).select_from(preferences))

    assert students == 50
    assert current is not None and current >= 45  # a few withdrew; the rest are open
    assert summary.preference_rows_created == created
