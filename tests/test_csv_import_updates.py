"""Native CSV import again: the same files change nothing, a changed row updates in place, a new
start date is a new row, rows absent from the files are left alone, references resolve against
the database, and a preference keeps the setter of a value that stays."""

from datetime import date
from pathlib import Path

from sqlalchemy import insert, select, update

from shared.core.db import SessionFactory
from shared.imports.native import FileCounts, ImportSummary
from shared.models import Household, HouseholdMember, Person, Relationship, School, preferences
from shared.models.preferences import SETTER_COLUMNS
from tests.support.csv_bundle import (
    BUNDLE,
    EXPORT,
    PREFERENCES_HEADER,
    SAME_AGAIN,
    export,
    import_ok,
    links,
    replacing,
    row_counts,
    stored_preferences,
    write_bundle,
)


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
