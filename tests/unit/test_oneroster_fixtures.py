"""The hand-written bundles of tests/fixtures/oneroster translated whole: one small district in
OneRoster 1.1 (v1p1) and in 1.2 (v1p2), and the native bundle each must give (v1p1-native,
v1p2-native), compared file by file in full. The helpers here build the variants the other
test_oneroster_* modules translate."""

import csv
import io
from collections.abc import Callable
from pathlib import Path

import pytest

from shared.core.errors import ImportFailed
from shared.imports.oneroster import Translation, translate

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "oneroster"
NATIVE_FILES = [
    "calendars.csv",
    "districtAssignments.csv",
    "enrollments.csv",
    "householdMembers.csv",
    "households.csv",
    "people.csv",
    "relationships.csv",
    "schools.csv",
]
EVERY_NATIVE = frozenset(
    {
        "people.csv",
        "relationships.csv",
        "householdMembers.csv",
        "districtAssignments.csv",
        "enrollments.csv",
    }
)
UNKNOWN_AGENT = "users.csv:4: agentSourcedIds: 'u-x999' names no user in the bundle; skipped"


def fixture_text(version: str, name: str) -> str:
    return (FIXTURES / version / name).read_text(encoding="utf-8")


def bundle(
    tmp_path: Path, version: str = "v1p1", files: dict[str, str | None] | None = None
) -> Path:
    """A copy of a fixture bundle, with some files replaced (text) or left out (None)."""
    folder = tmp_path / "oneroster"
    folder.mkdir()
    for path in sorted((FIXTURES / version).iterdir()):
        (folder / path.name).write_bytes(path.read_bytes())
    for name, text in (files or {}).items():
        if text is None:
            (folder / name).unlink()
        else:
            (folder / name).write_bytes(text.encode("utf-8"))
    return folder


def native(folder: Path) -> dict[str, str]:
    """The written files, each as its text with CRLF read as LF."""
    return {
        path.name: path.read_bytes().decode("utf-8").replace("\r\n", "\n")
        for path in sorted(folder.iterdir())
    }


def expected(version: str = "v1p1") -> dict[str, str]:
    return native(FIXTURES / f"{version}-native")


def run(folder: Path, tmp_path: Path) -> tuple[Translation, dict[str, str]]:
    target = tmp_path / "native"
    translation = translate(folder, target)
    return translation, native(target)


def problems(folder: Path, tmp_path: Path) -> list[str]:
    """The problems of a bundle that must fail, having left no file in the target."""
    target = tmp_path / "native"
    with pytest.raises(ImportFailed) as failed:
        translate(folder, target)
    assert not target.exists() or list(target.iterdir()) == []
    return failed.value.problems


def edit(text: str, change: Callable[[list[list[str]]], None]) -> str:
    """A CSV text changed row by row (`change` edits the parsed rows, header first)."""
    rows = list(csv.reader(io.StringIO(text)))
    change(rows)
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue()


@pytest.mark.parametrize("version", ["v1p1", "v1p2"])
def test_a_bundle_becomes_its_native_bundle(tmp_path: Path, version: str) -> None:
    translation, written = run(FIXTURES / version, tmp_path)

    assert list(written) == NATIVE_FILES
    assert written == expected(version)
    assert translation.version == {"v1p1": "1.1", "v1p2": "1.2"}[version]
    assert translation.bulk == EVERY_NATIVE
    assert translation.ended_people == ()
    assert translation.ended_enrollments == ()
    assert translation.notes == (UNKNOWN_AGENT,)


def test_the_two_versions_differ_only_in_the_assignments_dates_and_titles() -> None:
    one, two = expected("v1p1"), expected("v1p2")

    assert [name for name in NATIVE_FILES if one[name] != two[name]] == ["districtAssignments.csv"]
    assert one["districtAssignments.csv"] == (
        "personId,schoolId,title,startDate,endDate\nu-t400,s1,teacher,,\nu-a500,,administrator,,\n"
    )
    assert two["districtAssignments.csv"] == (
        "personId,schoolId,title,startDate,endDate\n"
        "u-t400,s1,teacher,2025-08-11,2026-06-12\n"
        "u-t400,s2,teacher,2025-08-11,\n"
        "u-a500,,districtAdministrator,2024-07-01,\n"
    )


def test_rows_are_written_as_utf8_with_crlf(tmp_path: Path) -> None:
    translate(FIXTURES / "v1p1", tmp_path / "native")

    assert (tmp_path / "native" / "schools.csv").read_bytes() == (
        b"schoolId,name\r\ns1,Lakeside Elementary\r\ns2,Hilltop Middle\r\n"
    )


def test_a_people_cell_is_traced_to_its_users_cell(tmp_path: Path) -> None:
    translation, _ = run(FIXTURES / "v1p1", tmp_path)

    assert translation.source_of("people.csv", 5, "homePhone") == ("users.csv", 5, "phone")
    assert translation.source_of("people.csv", 5, "cellPhone") == ("users.csv", 5, "sms")
    assert translation.source_of("people.csv", 2, "email") == ("users.csv", 2, "email")
    assert translation.source_of("people.csv", 9, "firstName") == ("users.csv", 9, "givenName")
    assert translation.source_of("people.csv", 8, "staffNumber") == ("users.csv", 8, "identifier")
    assert translation.source_of("people.csv", 3, "(row)") == ("users.csv", 3, "(row)")
    assert translation.source_of("people.csv", 1, "email") == ("people.csv", 1, "email")
    assert translation.source_of("people.csv", 10, "email") == ("people.csv", 10, "email")
    assert translation.source_of("households.csv", 2, "name") == ("households.csv", 2, "name")


def test_files_the_mapping_does_not_use_are_never_read(tmp_path: Path) -> None:
    manifest = (
        fixture_text("v1p1", "manifest.csv")
        .replace("file.courses,absent", "file.courses,bulk")
        .replace("file.demographics,absent", "file.demographics,bulk")
    )
    folder = bundle(
        tmp_path,
        files={"manifest.csv": manifest, "courses.csv": "not,a\nOneRoster,file,at all\n"},
    )

    translation, written = run(folder, tmp_path)

    assert written == expected()
    assert translation.notes == (UNKNOWN_AGENT,)


def test_roles_csv_is_not_read_in_a_1_1_bundle(tmp_path: Path) -> None:
    folder = bundle(tmp_path, files={"roles.csv": "whatever\n"})

    _, written = run(folder, tmp_path)

    assert written == expected()
