"""Spreadsheet formulas in the CSV files the product writes: a cell a spreadsheet would run
(starting with =, +, -, @, a tab or a carriage return, or with ' before one of those) is
written with a leading ', a phone number (+ and digits) as it is, in every free-text column of
the export and of changes.csv; and the native import takes exactly that ' off again, so the
export of an imported bundle reads back exactly. On SQLite and PostgreSQL."""

import csv
import io
from pathlib import Path

import pytest

from shared.batches.change_log import iter_changes_csv
from shared.core.db import SessionFactory
from shared.core.spreadsheet import FORMULA_STARTS, PHONE, neutralized, restored
from tests.support.csv_bundle import export, import_ok, replacing, tables, write_bundle
from tests.support.driver import run_batch

FORMULAS = ["=1+1", "+SUM(A1)", "-2", "@A1", "\tx", "\rx", "'=1+1", "''@x", "'-"]
PLAIN = ["P-1", "'quoted", "''", "+1 555-0100", "a@example.org", "Ann O'Brien"]


def test_every_cell_reads_back_and_none_is_run():
    for cell in FORMULAS + PLAIN:
        written = neutralized(cell)
        assert restored(written) == cell, cell
        assert not written.startswith(FORMULA_STARTS) or PHONE.fullmatch(written), cell
    assert [neutralized(cell) for cell in FORMULAS] == ["'" + cell for cell in FORMULAS]
    assert [neutralized(cell) for cell in PLAIN] == PLAIN


def cells(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))[1:]


@pytest.fixture
def imported(session_factory: SessionFactory, tmp_path: Path) -> SessionFactory:
    """The small bundle with formula identifiers and a formula in a phone cell, written as the
    product writes CSV (each cell neutralized)."""
    folder = write_bundle(
        tmp_path,
        replacing("people.csv", "P2,Bob,Lee,,,,5550003,", "'=P2,Bob,Lee,,,,'-5550003,")
        | replacing("householdMembers.csv", "H1,P2,", "H1,'=P2,")
        | replacing("relationships.csv", "P1,P2,Father", "P1,'=P2,Father"),
    )
    import_ok(session_factory, folder)
    return session_factory


def test_the_import_restores_the_cells_and_the_exports_neutralize_them(imported: SessionFactory):
    with imported() as session:
        persons = {row[0]: row for row in tables(session)["persons"]}
        exported = export(session)
    assert "=P2" in persons  # the ' the writer added is gone
    assert persons["=P2"][6] == "-5550003"  # a phone: digits and dashes
    rows = cells(exported)
    assert [row[1:4] for row in rows if row[1] == "'=P2"] == [["'=P2", "workPhone", "'-5550003"]]
    assert all(not row[1].startswith(FORMULA_STARTS) for row in rows)
    view = run_batch(imported, {"mode": "student", "scope": {"calendarId": "C1"},
                                "changes": {"email": {"general": "on"}}})  # fmt: skip
    assert view["status"] == "succeeded"


def test_changes_csv_neutralizes_the_identifiers(imported: SessionFactory):
    changes = {"workPhone": {"emergency": "on"}, "householdPhone": {"general": "on"}}
    body = {"mode": "studentContact", "scope": {"calendarId": "C1"}, "changes": changes}
    view = run_batch(imported, body)
    with imported() as session:
        rows = cells("".join(iter_changes_csv(session, view["id"])))
    assert rows and all(not row[1].startswith(FORMULA_STARTS) for row in rows)
