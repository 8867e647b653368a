"""Native CSV import into an empty database: every entity written exactly (and exported as the
file says), the same when staged in small batches, and the constraints and indexes it drops for
the load put back as they were."""

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import insert, select
from sqlalchemy import text as sql
from sqlalchemy.exc import IntegrityError

from shared.core.db import SessionFactory
from shared.imports.native import staging
from shared.models import Calendar, Enrollment, Household, School
from tests.support.csv_bundle import (
    EXPORT,
    FIRST_IMPORT,
    export,
    import_ok,
    links,
    row_counts,
    stored_preferences,
    tables,
    write_bundle,
)


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
        assert tables(session)["persons"] == [
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


def test_many_rows_are_staged_in_batches(
    session_factory: SessionFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(staging, "BATCH", 2)

    assert import_ok(session_factory, write_bundle(tmp_path)) == FIRST_IMPORT
    with session_factory.begin() as session:
        assert export(session) == EXPORT


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
