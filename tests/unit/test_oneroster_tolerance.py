"""What a OneRoster bundle may vary in without changing what it translates to: column order,
`metadata.*` columns, a byte order mark, CRLF, spaces in lists, the case of enumerated values,
date-times in date columns, blank lines, the optional files, and cells that span lines."""

from pathlib import Path

import pytest

from shared.imports.oneroster import translate
from tests.unit.test_oneroster_fixtures import (
    EVERY_NATIVE,
    FIXTURES,
    UNKNOWN_AGENT,
    bundle,
    edit,
    expected,
    fixture_text,
    run,
)

VERSIONS = ["v1p1", "v1p2"]


def every_file(version: str) -> list[str]:
    return sorted(path.name for path in (FIXTURES / version).iterdir())


def _shuffled(rows: list[list[str]]) -> None:
    """Columns reversed, with a metadata column in the middle."""
    for n, row in enumerate(rows):
        row.reverse()
        row.insert(len(row) // 2, "metadata.district.code" if n == 0 else f"x{n}")


@pytest.mark.parametrize("version", VERSIONS)
def test_columns_are_read_by_name_in_any_order_and_metadata_is_ignored(
    tmp_path: Path, version: str
) -> None:
    files = {name: edit(fixture_text(version, name), _shuffled) for name in every_file(version)}
    translation, written = run(bundle(tmp_path, version, dict(files)), tmp_path)

    assert written == expected(version)
    assert translation.notes == (UNKNOWN_AGENT,)


@pytest.mark.parametrize("version", VERSIONS)
def test_a_byte_order_mark_and_crlf_line_ends_are_read(tmp_path: Path, version: str) -> None:
    files: dict[str, str | None] = {
        name: "\ufeff" + fixture_text(version, name).replace("\n", "\r\n")
        for name in every_file(version)
    }
    translation, written = run(bundle(tmp_path, version, files), tmp_path)

    assert written == expected(version)
    assert translation.notes == (UNKNOWN_AGENT,)


@pytest.mark.parametrize("version", VERSIONS)
def test_list_items_are_stripped_and_enumerations_read_in_any_case(
    tmp_path: Path, version: str
) -> None:
    def swap(name: str, *pairs: tuple[str, str]) -> str:
        text = fixture_text(version, name)
        for old, new in pairs:
            assert old in text
            text = text.replace(old, new)
        return text

    user_pairs = [
        ('"u-p200,u-p201"', '" u-p200 ,  u-p201 "'),
        ('"u-p201,u-r300,u-x999"', '"u-p201 , u-r300,u-x999 "'),
        (",03,", ", 03 ,"),
    ]
    if version == "v1p1":
        user_pairs += [
            (",student,", ",STUDENT,"),
            ('"s1,s2",guardian', '"s1 , s2",Guardian'),
            (",administrator,", ",Administrator,"),
        ]
    files: dict[str, str | None] = {
        "manifest.csv": swap("manifest.csv", (",bulk", ",BULK"), (",absent", ",Absent")),
        "orgs.csv": swap("orgs.csv", (",school,", ",School,"), (",district,", ",DISTRICT,")),
        "academicSessions.csv": swap(
            "academicSessions.csv", ("sy26,,", "sy26,Active,"), (",schoolYear,", ",SchoolYear,")
        ),
        "users.csv": swap("users.csv", *user_pairs),
        "classes.csv": swap("classes.csv", ('"fall25,spring26"', '" fall25 , spring26"')),
        "enrollments.csv": swap("enrollments.csv", (",student,", ",Student,")),
    }
    if version == "v1p2":
        files["roles.csv"] = swap(
            "roles.csv",
            (",teacher,", ",Teacher,"),
            (",districtAdministrator,", ",DISTRICTADMINISTRATOR,"),
            (",parent,", ",PARENT,"),
            ("secondary,guardian", "secondary,GuardiaN"),
        )
    translation, written = run(bundle(tmp_path, version, files), tmp_path)

    assert written == expected(version)
    assert translation.bulk == EVERY_NATIVE
    assert translation.notes == (UNKNOWN_AGENT,)


@pytest.mark.parametrize("version", VERSIONS)
def test_a_date_time_in_a_date_column_is_read_as_its_date(tmp_path: Path, version: str) -> None:
    sessions = fixture_text(version, "academicSessions.csv").replace(
        "2025-08-18,2026-06-05,,2026", "2025-08-18T00:00:00Z,2026-06-05 00:00:00,,2026"
    )
    enrollments = (
        fixture_text(version, "enrollments.csv")
        .replace("2025-08-18,2025-12-19", "2025-08-18T07:30:00-05:00,2025-12-19T23:59:59.999Z")
        .replace("2026-01-05,2026-06-05", "2026-01-05 08:00,2026-06-05T12:00:00+0100")
    )
    files: dict[str, str | None] = {
        "academicSessions.csv": sessions,
        "enrollments.csv": enrollments,
    }
    if version == "v1p2":
        files["roles.csv"] = fixture_text(version, "roles.csv").replace(
            "2025-08-11,2026-06-12", "2025-08-11T00:00:00.000Z,2026-06-12T00:00:00Z"
        )
    _, written = run(bundle(tmp_path, version, files), tmp_path)

    assert written == expected(version)


def test_blank_lines_and_rows_of_empty_cells_are_skipped(tmp_path: Path) -> None:
    orgs = fixture_text("v1p1", "orgs.csv")
    lines = orgs.splitlines(keepends=True)
    files: dict[str, str | None] = {"orgs.csv": "".join([*lines[:2], "\n", *lines[2:], ",,,,,,\n"])}

    _, written = run(bundle(tmp_path, "v1p1", files), tmp_path)

    assert written == expected()


@pytest.mark.parametrize("version", VERSIONS)
def test_the_optional_files_may_be_absent(tmp_path: Path, version: str) -> None:
    manifest = fixture_text(version, "manifest.csv")
    for name in ("academicSessions", "classes", "enrollments"):
        manifest = manifest.replace(f"file.{name},bulk", f"file.{name},absent")
    files: dict[str, str | None] = {
        "manifest.csv": manifest,
        "academicSessions.csv": None,
        "classes.csv": None,
        "enrollments.csv": None,
    }
    translation, written = run(bundle(tmp_path, version, files), tmp_path)

    everything = expected(version)
    del everything["calendars.csv"], everything["enrollments.csv"]
    assert written == everything
    assert translation.bulk == EVERY_NATIVE - {"enrollments.csv"}


def test_only_orgs_give_only_schools(tmp_path: Path) -> None:
    manifest = "propertyName,value\noneroster.version,1.2\nfile.orgs,delta\n"
    folder = tmp_path / "orgs-only"
    folder.mkdir()
    (folder / "manifest.csv").write_text(manifest, encoding="utf-8")
    (folder / "orgs.csv").write_text(fixture_text("v1p2", "orgs.csv"), encoding="utf-8")

    translation = translate(folder, tmp_path / "native")

    assert sorted(path.name for path in (tmp_path / "native").iterdir()) == ["schools.csv"]
    assert translation.bulk == frozenset()
    assert translation.notes == ()


def test_a_cell_spanning_lines_moves_the_lines_after_it(tmp_path: Path) -> None:
    """A quoted cell holding LF, or a lone CR, counts as the line breaks it holds, in users.csv
    as read and in people.csv as written."""
    users = (
        fixture_text("v1p1", "users.csv")
        .replace("ava.diaz,,Ava,", 'ava.diaz,,"Ava\nMarie",')
        .replace("leo.diaz,,Leo,Diaz,", 'leo.diaz,,Leo,"Diaz\rRuiz",')
    )
    translation, written = run(bundle(tmp_path, "v1p1", {"users.csv": users}), tmp_path)

    assert translation.notes == (
        "users.csv:6: agentSourcedIds: 'u-x999' names no user in the bundle; skipped",
    )
    people = (tmp_path / "native" / "people.csv").read_bytes().decode()
    assert people.split("\r\n")[1:4] == [
        'u-s100,"Ava\nMarie",Diaz,100100,,,,,ava.diaz@students.lakeside.example,',
        'u-s101,Leo,"Diaz\rRuiz",100101,,,,,,',
        "u-s102,Mia,Chen,100102,,,,,,",
    ]
    assert translation.source_of("people.csv", 3, "firstName") == ("users.csv", 2, "givenName")
    assert translation.source_of("people.csv", 5, "lastName") == ("users.csv", 4, "familyName")
    assert translation.source_of("people.csv", 6, "email") == ("users.csv", 6, "email")
    assert translation.source_of("people.csv", 7, "homePhone") == ("users.csv", 7, "phone")
    assert written["relationships.csv"] == expected()["relationships.csv"]
