"""How native CSV import reads its files: line numbers are physical lines, cells are trimmed and
a byte order mark ignored, columns come in any order, quoted cells are CSV, a leap day is a date,
and the fast path for plain lines passes only rows that the cell checks pass."""

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from shared.core.db import SessionFactory
from shared.core.errors import ImportFailed
from shared.imports.native import FileCounts, ImportSummary, import_bundle
from shared.imports.native.formats import SPECS, FileSpec
from shared.imports.native.plain_lines import RowTest
from shared.imports.native.reading import cell_problem
from shared.models import Enrollment, Household, Person
from tests.support.csv_bundle import (
    BUNDLE,
    EXPORT,
    FIRST_IMPORT,
    PEOPLE_HEADER,
    export,
    import_ok,
    replacing,
    write_bundle,
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
    summary = import_ok(session_factory, write_bundle(tmp_path, only_people))
    assert [str(finding) for finding in summary.findings] == [
        "people.csv:2: lastName: Lee\\u000aSmith: control or bidi-override characters removed; "
        "the rest kept",
        "people.csv:5: secondaryEmail: not-an-email: "
        "not an e-mail address (name@domain.example, without spaces)",
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


def test_columns_in_another_order_are_read_the_same(
    session_factory: SessionFactory, tmp_path: Path
):
    def reversed_columns(text: str) -> str:
        return "".join(",".join(line.split(",")[::-1]) + "\n" for line in text.splitlines())

    reordered = {name: reversed_columns(BUNDLE[name]) for name in ("people.csv", "preferences.csv")}

    assert import_ok(session_factory, write_bundle(tmp_path / "good", reordered)) == FIRST_IMPORT
    with session_factory.begin() as session:
        assert export(session) == EXPORT

    long_name = reversed_columns(f"{PEOPLE_HEADER}\nP4,{'D' * 101},Lee,,,,,,,\n")
    with session_factory.begin() as session:
        with pytest.raises(ImportFailed) as failed:
            import_bundle(session, write_bundle(tmp_path / "bad", {"people.csv": long_name}))
    assert failed.value.problems == ["people.csv:2: firstName: longer than 100 characters"]


def test_quoted_cells_are_read_as_csv(session_factory: SessionFactory, tmp_path: Path):
    changes = replacing("people.csv", "P2,Bob,Lee,", 'P2,"Bob ""Bobby""","Lee, Jr.",') | replacing(
        "households.csv", "H2,Day Household,", '"H2","Day\nHousehold",'
    )

    summary = import_ok(session_factory, write_bundle(tmp_path, changes))
    assert summary == FIRST_IMPORT.with_findings(list(summary.findings))
    assert [str(finding) for finding in summary.findings] == [
        "households.csv:3: name: Day\\u000aHousehold: control or bidi-override characters "
        "removed; the rest kept"
    ]
    with session_factory.begin() as session:
        p2 = session.execute(
            select(Person.first_name, Person.last_name).where(Person.ext_id == "P2")
        )
        assert p2.one() == ('Bob "Bobby"', "Lee, Jr.")
        h2 = session.scalar(select(Household.name).where(Household.ext_id == "H2"))
        assert h2 == "Day Household"  # the line break in a name is a space


def test_a_leap_day_is_a_date(session_factory: SessionFactory, tmp_path: Path):
    changes = replacing("enrollments.csv", "P1,C1,03,2025-08-19,", "P1,C1,03,2024-02-29,")

    import_ok(session_factory, write_bundle(tmp_path, changes))

    with session_factory.begin() as session:
        starts = session.scalars(select(Enrollment.start_date).order_by(Enrollment.id))
        assert list(starts) == [date(2024, 2, 29), None]


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
