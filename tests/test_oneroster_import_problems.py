"""Structural problems of a OneRoster bundle through run_import: every one listed at once as
`file:line: column: what is wrong`, and nothing written: neither into an empty database nor
over what an earlier import wrote (nothing ended either)."""

from pathlib import Path

import pytest

from shared.core.db import SessionFactory
from tests.support.imports import zipped
from tests.support.oneroster import (
    FIXTURES,
    NOTHING,
    bundle,
    clean_tables,
    fixture_text,
    problems,
    read_tables,
    replaced,
    row_counts,
    run,
    without_lines,
)

Files = dict[str, str | bytes | None]


def _references() -> Files:
    """An unknown org in orgSourcedIds, an unknown class, a repeated sourcedId, a bad date;
    u-p200 also leaves users.csv, which alone would end her links."""
    return {
        "users.csv": replaced(
            without_lines(fixture_text("v1p1", "users.csv"), "u-p200,"),
            ('"s1,s2",guardian', '"s1, s9",guardian'),
        ),
        "enrollments.csv": replaced(
            fixture_text("v1p1", "enrollments.csv"),
            ("e3,,,c-home5", "e3,,,c-home6"),
            (
                "e4,,,c-sci7,s2,u-s102,student,false,2025-08-25",
                "e2,,,c-sci7,s2,u-s102,student,false,2025-08-32",
            ),
        ),
    }


REFERENCES = [
    "users.csv:5: orgSourcedIds: 's9' is not in orgs.csv",
    "enrollments.csv:4: classSourcedId: 'c-home6' is not in classes.csv",
    "enrollments.csv:5: sourcedId: 'e2' is also on line 3",
    "enrollments.csv:5: beginDate: '2025-08-32' is not a date (YYYY-MM-DD)",
]


def _missing_columns() -> Files:
    """Required columns renamed away in three files, and a row of the wrong width."""
    return {
        "academicSessions.csv": replaced(
            fixture_text("v1p1", "academicSessions.csv"), (",schoolYear\n", ",year\n")
        ),
        "users.csv": replaced(
            fixture_text("v1p1", "users.csv"), ("givenName,familyName", "firstName,lastName")
        ),
        "enrollments.csv": fixture_text("v1p1", "enrollments.csv") + "e6,,,c-math3,s1\n",
    }


MISSING_COLUMNS = [
    "academicSessions.csv:1: schoolYear: missing column",
    "users.csv:1: givenName: missing column",
    "users.csv:1: familyName: missing column",
    "enrollments.csv:7: (row): 5 cells, but the header has 10",
]


def _roles_1_2() -> Files:
    """A role naming no user, a role that is none, a role at an unknown org."""
    return {
        "roles.csv": fixture_text("v1p2", "roles.csv")
        + "r11,,,u-gone,primary,teacher,,,s1,\n"
        + "r12,,,u-t400,primary,janitor,,,s1,\n"
        + "r13,,,u-t400,secondary,teacher,,,s7,\n",
    }


ROLES_1_2 = [
    "roles.csv:12: userSourcedId: 'u-gone' is not in users.csv",
    "roles.csv:13: role: 'janitor' is not a OneRoster role",
    "roles.csv:14: orgSourcedId: 's7' is not in orgs.csv",
]


def _manifest() -> Files:
    return {
        "manifest.csv": replaced(
            fixture_text("v1p2", "manifest.csv"),
            ("file.roles,bulk", "file.roles,absent"),
            ("file.classes,bulk", "file.classes,full"),
        ),
    }


MANIFEST = [
    "manifest.csv:6: value: file.classes is 'full', not bulk, delta or absent",
    "manifest.csv:20: value: file.roles is absent, but roles.csv is in the bundle",
]
CASES = {
    "references": ("v1p1", _references, REFERENCES),
    "missing columns": ("v1p1", _missing_columns, MISSING_COLUMNS),
    "roles": ("v1p2", _roles_1_2, ROLES_1_2),
    "manifest": ("v1p2", _manifest, MANIFEST),
}


@pytest.mark.parametrize("case", list(CASES))
def test_every_problem_is_listed_and_nothing_written(
    session_factory: SessionFactory, tmp_path: Path, case: str
):
    version, changes, expected = CASES[case]

    found = problems(session_factory, bundle(tmp_path / "b", version, changes()))

    assert found == expected
    assert row_counts(session_factory) == NOTHING


def test_a_failed_import_leaves_an_earlier_one_as_it_was(
    session_factory: SessionFactory, tmp_path: Path
):
    """The failing bundle also drops u-p200, whose links would end: none does."""
    run(session_factory, FIXTURES / "v1p1")
    before = row_counts(session_factory)

    found = problems(session_factory, bundle(tmp_path / "b", "v1p1", _references()))

    assert found == REFERENCES
    assert read_tables(session_factory) == clean_tables("v1p1")
    assert row_counts(session_factory) == before


def test_bundles_that_cannot_be_read_at_all(session_factory: SessionFactory, tmp_path: Path):
    not_utf8 = bundle(
        tmp_path / "latin1", files={"users.csv": "sourcedId\nJos\xe9\n".encode("latin-1")}
    )
    no_version = bundle(
        tmp_path / "v13", files={"manifest.csv": "propertyName,value\noneroster.version,1.3\n"}
    )
    (tmp_path / "not-a.zip").write_bytes(b"PK but not really a zip")
    empty_zip = tmp_path / "empty.zip"
    empty_zip.write_bytes(zipped({"export/readme.txt": "no bundle here"}))

    assert problems(session_factory, not_utf8) == [
        "users.csv:2: (file): not valid UTF-8; nothing after it read"
    ]
    assert problems(session_factory, no_version) == [
        "manifest.csv:2: value: oneroster.version is '1.3'; only 1.1 and 1.2 are read"
    ]
    assert problems(session_factory, tmp_path / "not-a.zip") == ["the file is not a zip file"]
    assert problems(session_factory, empty_zip) == ["no manifest.csv in the bundle"]
    assert row_counts(session_factory) == NOTHING
