"""Control and bidi-override characters in imported names (of people, households, schools,
calendars, relationships and titles) are removed and reported, and the row is kept: such a
character disguises a name on the pages and in the files. On SQLite and PostgreSQL."""

from pathlib import Path

from shared.core.db import SessionFactory
from tests.support.csv_bundle import import_ok, replacing, tables, write_bundle

WHY = "control or bidi-override characters removed; the rest kept"


def test_hidden_characters_in_names_are_removed_and_reported(
    session_factory: SessionFactory, tmp_path: Path
):
    folder = write_bundle(
        tmp_path,
        replacing("people.csv", "P1,Ann,Lee,", "P1,Ann\u202egnp.exe,Lee\x00\x07,")
        | replacing("households.csv", "H1,Lee Household,", "H1,\u200bLee Household,")
        | replacing("districtAssignments.csv", "P3,S1,Teacher,", "P3,S1,Teach\u2066er,"),
    )
    summary = import_ok(session_factory, folder)
    assert [str(finding) for finding in summary.findings] == [
        f"people.csv:2: firstName: Ann\\u202egnp.exe: {WHY}",
        f"people.csv:2: lastName: Lee\\u0000\\u0007: {WHY}",
        f"households.csv:2: name: \\u200bLee Household: {WHY}",
        f"districtAssignments.csv:2: title: Teach\\u2066er: {WHY}",
    ]
    with session_factory() as session:
        found = tables(session)
    ann = next(row for row in found["persons"] if row[0] == "P1")
    assert ann[1:3] == ("Anngnp.exe", "Lee")
    assert ("H1", "Lee Household", "5559000") in found["households"]
    assert ("P3", "S1", "Teacher") in [row[:3] for row in found["assignments"]]
