"""What real OneRoster exports do differently from the hand-written bundles, imported into the
database: each gives the same tables as the clean bundle, or an exact report, never a crash."""

import csv
import io
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from shared.core.db import SessionFactory
from tests.support.oneroster import (
    FIXTURES,
    NOTHING,
    UNKNOWN_AGENT,
    bundle,
    clean_tables,
    files,
    findings,
    first_files,
    fixture_text,
    problems,
    read_tables,
    replaced,
    row_counts,
    run,
)

Change = Callable[[str, str, str], str]  # version, file name, text -> text


def _crlf(version: str, name: str, text: str) -> str:
    return text.replace("\n", "\r\n")


def _bom(version: str, name: str, text: str) -> str:
    return "\ufeff" + text


def _every(text: str, *pairs: tuple[str, str]) -> str:
    for old, new in pairs:
        assert old in text, old
        text = text.replace(old, new)
    return text


def _list_spaces(version: str, name: str, text: str) -> str:
    if name == "users.csv":
        text = _every(
            text,
            ('"u-p200,u-p201",03', '" u-p200 ,  u-p201 ", 03 '),
            ('"u-p201,u-r300,u-x999",07', '"u-p201 , u-r300,u-x999 ",07 '),
            (",u-p200,05,", ", u-p200 ,05,"),
        )
        if version == "v1p1":
            text = _every(text, ('"s1,s2"', '" s1 ,  s2 "'))
    if name == "classes.csv":
        text = _every(text, ('"fall25,spring26"', '" fall25 , spring26 "'))
    return text


def _case(version: str, name: str, text: str) -> str:
    """Roles, org and session types in another case."""
    contacts = [(",student,", ",Student,"), (",parent,", ",PARENT,"), (",relative,", ",Relative,")]
    if name == "users.csv" and version == "v1p1":
        return _every(
            text,
            *contacts,
            ("guardian,wei", "Guardian,wei"),
            (",teacher,", ",TEACHER,"),
            (",administrator,", ",Administrator,"),
        )
    if name == "roles.csv":
        return _every(
            text,
            *contacts,
            (",guardian,", ",GUARDIAN,"),
            (",teacher,", ",Teacher,"),
            (",districtAdministrator,", ",DISTRICTADMINISTRATOR,"),
        )
    if name == "enrollments.csv":
        return _every(text, (",student,", ",STUDENT,"), (",teacher,", ",Teacher,"))
    if name == "orgs.csv":
        return _every(text, (",school,", ",School,"), (",district,", ",DISTRICT,"))
    if name == "academicSessions.csv":
        return _every(text, (",schoolYear,", ",SCHOOLYEAR,"), (",semester,", ",Semester,"))
    return text


def _date_times(version: str, name: str, text: str) -> str:
    if name == "enrollments.csv":
        return _every(
            text,
            (",2025-08-18,", ",2025-08-18T00:00:00Z,"),
            (",2025-08-25,", ",2025-08-25T08:30:00.000Z,"),
            (",2026-06-05\n", ",2026-06-05T00:00:00+02:00\n"),
        )
    if name == "academicSessions.csv":
        return _every(text, (",2025-08-18,", ",2025-08-18T00:00:00Z,"))
    if name == "roles.csv":
        return _every(text, (",2025-08-11,", ",2025-08-11 07:00:00-05:00,"))
    return text


def _shuffled_with_metadata(version: str, name: str, text: str) -> str:
    """Columns reversed, a `metadata.*` column in the middle and another at the end."""
    rows = list(csv.reader(io.StringIO(text)))
    for n, row in enumerate(rows):
        row.reverse()
        row.insert(len(row) // 2, "metadata.lakeside.code" if n == 0 else f"code {n}")
        row.append("metadata.lakeside.note" if n == 0 else "")
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue()


def _blank_lines_and_spanning_cells(version: str, name: str, text: str) -> str:
    if name == "classes.csv":
        text = _every(text, ("Math 3", '"Math 3\nAdvanced"'))
    return text.replace("\n", "\n\n", 1)


def _all_at_once(version: str, name: str, text: str) -> str:
    for change in (_list_spaces, _case, _date_times, _shuffled_with_metadata, _crlf, _bom):
        text = change(version, name, text)
    return text


DEVIATIONS: dict[str, Change] = {
    "crlf": _crlf,
    "byte order mark": _bom,
    "spaces in lists": _list_spaces,
    "case": _case,
    "date-times": _date_times,
    "shuffled with metadata": _shuffled_with_metadata,
    "blank lines and spanning cells": _blank_lines_and_spanning_cells,
    "all at once": _all_at_once,
}


def _deviating(folder: Path, version: str, change: Change) -> Path:
    texts = {
        path.name: change(version, path.name, path.read_text())
        for path in (FIXTURES / version).iterdir()
    }
    return bundle(folder, version, dict(texts))


# Every deviation on 1.1; on 1.2 those that reach roles.csv, and all at once.
CASES = [("v1p1", deviation) for deviation in DEVIATIONS] + [
    ("v1p2", deviation) for deviation in ("case", "date-times", "all at once")
]


@pytest.mark.parametrize(("version", "deviation"), CASES)
def test_a_deviation_imports_like_the_clean_bundle(
    session_factory: SessionFactory, tmp_path: Path, version: str, deviation: str
):
    report = run(session_factory, _deviating(tmp_path / "b", version, DEVIATIONS[deviation]))

    assert files(report) == first_files(version)
    moved = deviation == "blank lines and spanning cells"  # one line down
    agent = UNKNOWN_AGENT.replace("users.csv:4:", "users.csv:5:") if moved else UNKNOWN_AGENT
    assert findings(report) == [f"skipped: {agent}"]
    assert read_tables(session_factory) == clean_tables(version)


def test_a_zip_with_the_bundle_in_one_folder(session_factory: SessionFactory, tmp_path: Path):
    """As an export tool zips it: one folder, with the macOS resource folder beside it."""
    archive = tmp_path / "lakeside-2025-09-01.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as out:
        for path in sorted((FIXTURES / "v1p2").iterdir()):
            out.write(path, f"lakeside-2025-09-01/{path.name}")
            out.writestr(f"__MACOSX/lakeside-2025-09-01/._{path.name}", b"\x00\x05\x16\x07")

    report = run(session_factory, archive)

    assert files(report) == first_files("v1p2")
    assert read_tables(session_factory) == clean_tables("v1p2")


@pytest.mark.parametrize(
    ("version", "file", "line"), [("v1p1", "users", 16), ("v1p2", "enrollments", 11)]
)
def test_a_manifest_that_says_absent_for_a_file_that_is_there(
    session_factory: SessionFactory, tmp_path: Path, version: str, file: str, line: int
):
    manifest = replaced(
        fixture_text(version, "manifest.csv"), (f"file.{file},bulk", f"file.{file},absent")
    )

    found = problems(session_factory, bundle(tmp_path / "b", version, {"manifest.csv": manifest}))

    assert found == [
        f"manifest.csv:{line}: value: file.{file} is absent, but {file}.csv is in the bundle"
    ]
    assert row_counts(session_factory) == NOTHING
