"""The hand-written OneRoster 1.1 and 1.2 bundles imported into the database through
run_import: every table as the bundle says, the report, and the same bundle again changing
nothing."""

from datetime import date

import pytest

from shared.core.db import SessionFactory
from shared.core.vocabulary import ImportFormat
from tests.support.csv_bundle import PREFERENCES_HEADER, export
from tests.support.oneroster import (
    FIXTURES,
    TODAY,
    UNKNOWN_AGENT,
    clean_tables,
    d,
    files,
    findings,
    first_files,
    read_tables,
    run,
    same_files,
)

EXPORT = f"""\
{PREFERENCES_HEADER}
person,u-a500,email,sam.ortiz@lakeside.example,0,0,0,0,0,0,0,0,
person,u-p200,homePhone,6125550101,0,0,0,0,0,0,0,0,
person,u-p200,cellPhone,6125550100,0,0,0,0,0,0,0,0,
person,u-p200,email,rosa.diaz@example.org,0,0,0,0,0,0,0,0,
person,u-p201,homePhone,6125550102,0,0,0,0,0,0,0,0,
person,u-p201,email,wei.chen@example.org,0,0,0,0,0,0,0,0,
person,u-r300,homePhone,6125550103,0,0,0,0,0,0,0,0,
person,u-s100,email,ava.diaz@students.lakeside.example,0,0,0,0,0,0,0,0,
person,u-t400,cellPhone,6125550104,0,0,0,0,0,0,0,0,
person,u-t400,email,jo.park@lakeside.example,0,0,0,0,0,0,0,0,
""".replace("\n", "\r\n")


@pytest.mark.parametrize(("version", "later"), [("v1p1", TODAY), ("v1p2", date(2026, 7, 1))])
def test_a_fixture_bundle_writes_every_table_and_again_changes_nothing(
    session_factory: SessionFactory, version: str, later: date
):
    """Imported again the same day, or after every end date of the bundle has passed."""
    report = run(session_factory, FIXTURES / version)

    assert report.format == ImportFormat.ONEROSTER
    assert report.version == {"v1p1": "1.1", "v1p2": "1.2"}[version]
    assert files(report) == first_files(version)
    assert report.files_json() == {
        name: dict(zip(("added", "updated", "unchanged", "ended"), counts, strict=True))
        for name, counts in first_files(version).items()
    }
    assert findings(report) == [f"skipped: {UNKNOWN_AGENT}"]
    assert (report.quarantined, report.skipped) == (0, 1)
    assert report.preference_rows_created == 10
    assert read_tables(session_factory) == clean_tables(version)
    with session_factory.begin() as session:
        assert export(session) == EXPORT

    again = run(session_factory, FIXTURES / version, today=later)

    assert files(again) == same_files(version)
    assert again.changed_nothing is True
    assert again.preference_rows_created == 0
    assert findings(again) == [f"skipped: {UNKNOWN_AGENT}"]
    assert read_tables(session_factory) == clean_tables(version)
    with session_factory.begin() as session:
        assert export(session) == EXPORT


def test_a_1_2_bundle_after_a_1_1_bundle_replaces_the_undated_assignments(
    session_factory: SessionFactory,
):
    """The 1.1 assignments have no dates, the 1.2 ones do: the key (person, school, title,
    start date) differs, so the 1.2 rows are new and the 1.1 rows, absent, end."""
    run(session_factory, FIXTURES / "v1p1")

    report = run(session_factory, FIXTURES / "v1p2")

    assert files(report) == same_files("v1p1", districtAssignments=(3, 0, 0, 2))
    assert read_tables(session_factory) == clean_tables("v1p2") | {
        "assignments": [
            ("u-a500", None, "administrator", None, TODAY),
            ("u-a500", None, "districtAdministrator", d("2024-07-01"), None),
            ("u-t400", "s1", "teacher", None, TODAY),
            ("u-t400", "s1", "teacher", d("2025-08-11"), d("2026-06-12")),
            ("u-t400", "s2", "teacher", d("2025-08-11"), None),
        ]
    }
