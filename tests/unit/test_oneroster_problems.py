"""Structural problems: each reported as `file:line: column: what is wrong`, every one at once,
sorted by file (in reading order), line and column (in the file's header order), leaving
nothing in the target."""

from pathlib import Path

import pytest

from tests.unit.test_oneroster_fixtures import bundle, fixture_text, problems

LONG_ID = "N" * 65


def _plus(version: str, name: str, rows: str) -> str:
    return fixture_text(version, name) + rows


def test_every_problem_of_every_file_is_reported_at_once(tmp_path: Path) -> None:
    files: dict[str, str | None] = {
        "orgs.csv": _plus(
            "v1p2",
            "orgs.csv",
            ",,,Nameless,school,,\ns1,,,Again,school,,\ns4,gone,,Odd,campus,,\ns5,,,,school,,\n",
        ),
        "academicSessions.csv": _plus(
            "v1p2",
            "academicSessions.csv",
            "sy27,,,2026-2027,schoolYear,2026-08-17,06/04/2027,,27\n"
            "t-orphan,,,Orphan,term,2026-01-04,2026-03-01,,2027\n"
            "t-lost,,,Lost,term,,,nowhere,2027\n"
            "c-a,,,Loop A,term,,,c-b,2027\n"
            "c-b,,,Loop B,term,,,c-a,2027\n"
            "sy28,,,,schoolYear,,,,2028\n"
            "q9,,,Q9,quarter,,,sy26,2026\n",
        ),
        "users.csv": _plus(
            "v1p2",
            "users.csv",
            "u-s103,,,true,noah.ruiz,,Noah,,,100103,not-an-email,12,x,,03,,,,,,,s1,\n"
            "u-s100,,,true,again,,Ava,Diaz,,,,,,,,,,,,,,,\n"
            f"u-s104,archived,,true,,,{'G' * 101},Ruiz,,{LONG_ID},,,,,kindergarten-and-more"
            ",,,,,,,,\n",
        ),
        "roles.csv": _plus(
            "v1p2",
            "roles.csv",
            "r1,,,u-s100,primary,student,,,s1,\n"
            "r20,,,u-nobody,primary,teacher,,,s1,\n"
            "r21,,,u-t400,primary,janitor,,,s9,\n"
            "r22,,,u-t400,primary,teacher,2025-13-01,soon,s1,\n"
            ",,,,primary,,,,,\n",
        ),
        "classes.csv": _plus(
            "v1p2",
            "classes.csv",
            "c-x1,,,X1,,,,scheduled,,s1,t-orphan,,,\n"
            "c-x2,,,X2,,,,scheduled,,s1,t-lost,,,\n"
            "c-x3,,,X3,,,,scheduled,,s1,c-a,,,\n"
            "c-x4,,,X4,,,,scheduled,,d1,fall25,,,\n"
            'c-x5,,,X5,,,,scheduled,,s1,"t-none,sy26",,,\n'
            "c-x6,,,X6,,,,scheduled,,s1,,,,\n"
            "c-math3,,,Again,,,,scheduled,,s1,fall25,,,\n",
        ),
        "enrollments.csv": _plus(
            "v1p2",
            "enrollments.csv",
            "e1,,,c-math3,s1,u-s100,student,false,,\n"
            "e20,,,c-none,s1,u-s100,student,false,,\n"
            "e21,,,c-math3,s2x,u-s100,Pupil,false,,\n"
            "e22,,,c-math3,s1,u-s100,student,false,2025-08-18,someday\n"
            "e23,pending,,c-math3,s1,,student,false,,\n",
        ),
    }

    assert problems(bundle(tmp_path, "v1p2", files), tmp_path) == [
        "orgs.csv:5: sourcedId: required, but empty",
        "orgs.csv:6: sourcedId: 's1' is also on line 3",
        "orgs.csv:7: status: 'gone' is not active or tobedeleted",
        "orgs.csv:7: type: 'campus' is not an org type "
        "(school, district, local, state, national, department)",
        "orgs.csv:8: name: required, but empty",
        "academicSessions.csv:6: endDate: '06/04/2027' is not a date (YYYY-MM-DD)",
        "academicSessions.csv:6: schoolYear: '27' is not a year (YYYY)",
        "academicSessions.csv:8: parentSourcedId: 'nowhere' is not in academicSessions.csv",
        "academicSessions.csv:11: title: required, but empty",
        "academicSessions.csv:12: type: 'quarter' is not a session type "
        "(schoolYear, term, semester, gradingPeriod)",
        "users.csv:10: familyName: required, but empty",
        "users.csv:11: sourcedId: 'u-s100' is also on line 2",
        "users.csv:12: status: 'archived' is not active or tobedeleted",
        "users.csv:12: givenName: longer than 100 characters",
        "users.csv:12: identifier: longer than 64 characters",
        "users.csv:12: grades: longer than 16 characters",
        "roles.csv:12: sourcedId: 'r1' is also on line 2",
        "roles.csv:13: userSourcedId: 'u-nobody' is not in users.csv",
        "roles.csv:14: role: 'janitor' is not a OneRoster role",
        "roles.csv:14: orgSourcedId: 's9' is not in orgs.csv",
        "roles.csv:15: beginDate: '2025-13-01' is not a date (YYYY-MM-DD)",
        "roles.csv:15: endDate: 'soon' is not a date (YYYY-MM-DD)",
        "roles.csv:16: sourcedId: required, but empty",
        "roles.csv:16: userSourcedId: required, but empty",
        "roles.csv:16: role: required, but empty",
        "roles.csv:16: orgSourcedId: required, but empty",
        "classes.csv:6: termSourcedIds: 't-orphan' is in no schoolYear session",
        "classes.csv:7: termSourcedIds: 't-lost' leads to 'nowhere', "
        "which is not in academicSessions.csv",
        "classes.csv:8: termSourcedIds: the parents of 'c-a' form a cycle",
        "classes.csv:9: schoolSourcedId: 'd1' is not a school",
        "classes.csv:10: termSourcedIds: 't-none' is not in academicSessions.csv",
        "classes.csv:11: termSourcedIds: required, but empty",
        "classes.csv:12: sourcedId: 'c-math3' is also on line 2",
        "enrollments.csv:7: sourcedId: 'e1' is also on line 2",
        "enrollments.csv:8: classSourcedId: 'c-none' is not in classes.csv",
        "enrollments.csv:9: schoolSourcedId: 's2x' is not in orgs.csv",
        "enrollments.csv:9: role: 'Pupil' is not a OneRoster role",
        "enrollments.csv:10: endDate: 'someday' is not a date (YYYY-MM-DD)",
        "enrollments.csv:11: status: 'pending' is not active or tobedeleted",
        "enrollments.csv:11: userSourcedId: required, but empty",
    ]


def test_a_1_1_users_role_and_orgs_are_checked(tmp_path: Path) -> None:
    users = (
        fixture_text("v1p1", "users.csv")
        .replace("u-s101,,,true,s1,student,", "u-s101,,,true,s1,,")
        .replace('"s1,s2",guardian', '"s1,s9, s8",janitor')
    )
    assert problems(bundle(tmp_path, files={"users.csv": users}), tmp_path) == [
        "users.csv:3: role: required, but empty",
        "users.csv:6: orgSourcedIds: 's9' is not in orgs.csv",
        "users.csv:6: orgSourcedIds: 's8' is not in orgs.csv",
        "users.csv:6: role: 'janitor' is not a OneRoster role",
    ]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            {"manifest.csv": None},
            ["manifest.csv:1: (file): not in the bundle; every OneRoster bundle has one"],
        ),
        (
            {"manifest.csv": "propertyName,value\nfile.users,bulk\n"},
            ["manifest.csv:1: propertyName: oneroster.version is missing"],
        ),
        (
            {"manifest.csv": "propertyName,value\noneroster.version,1.0\n"},
            ["manifest.csv:2: value: oneroster.version is '1.0'; only 1.1 and 1.2 are read"],
        ),
        (
            {"manifest.csv": "value\n1.1\n"},
            ["manifest.csv:1: propertyName: missing column"],
        ),
    ],
    ids=["no manifest", "no version", "another version", "no propertyName"],
)
def test_a_manifest_without_a_version_stops_the_reading(
    tmp_path: Path, change: dict[str, str | None], expected: list[str]
) -> None:
    assert problems(bundle(tmp_path, files=change), tmp_path) == expected


def test_the_manifest_must_say_which_files_are_in_the_bundle(tmp_path: Path) -> None:
    manifest = (
        fixture_text("v1p1", "manifest.csv")
        .replace("file.users,bulk", "file.users,absent")
        .replace("file.classes,bulk", "file.classes,full")
        .replace("file.orgs,bulk\n", "")
        .replace("file.enrollments,bulk", "file.enrollments,delta\nfile.enrollments,bulk")
    )
    files: dict[str, str | None] = {"manifest.csv": manifest, "academicSessions.csv": None}

    assert problems(bundle(tmp_path, files=files), tmp_path) == [
        "manifest.csv:1: value: file.orgs is absent, but orgs.csv is in the bundle",
        "manifest.csv:4: value: file.academicSessions is bulk, "
        "but academicSessions.csv is not in the bundle",
        "manifest.csv:6: value: file.classes is 'full', not bulk, delta or absent",
        "manifest.csv:12: propertyName: 'file.enrollments' is also on line 11",
        "manifest.csv:16: value: file.users is absent, but users.csv is in the bundle",
        "classes.csv:2: termSourcedIds: 'fall25' cannot be looked up: "
        "academicSessions.csv is not in the bundle",
    ]


def test_a_reference_into_a_file_not_in_the_bundle_is_reported_once(tmp_path: Path) -> None:
    manifest = fixture_text("v1p1", "manifest.csv").replace("file.orgs,bulk", "file.orgs,absent")
    files: dict[str, str | None] = {"manifest.csv": manifest, "orgs.csv": None}

    assert problems(bundle(tmp_path, files=files), tmp_path) == [
        "users.csv:2: orgSourcedIds: 's1' cannot be looked up: orgs.csv is not in the bundle",
        "classes.csv:2: schoolSourcedId: 's1' cannot be looked up: orgs.csv is not in the bundle",
        "enrollments.csv:2: schoolSourcedId: 's1' cannot be looked up: "
        "orgs.csv is not in the bundle",
    ]


def test_a_file_that_cannot_be_read_names_no_unknown_references(tmp_path: Path) -> None:
    """classes.csv lacks a column and is not read, so enrollments' classes are not in doubt;
    users.csv names a column twice; orgs.csv is not UTF-8 after its first row; a row has too
    few cells; a file is empty."""
    classes = fixture_text("v1p1", "classes.csv").replace("termSourcedIds", "terms")
    users = fixture_text("v1p1", "users.csv").replace(",email,", ",sms,", 1)
    orgs = fixture_text("v1p1", "orgs.csv").replace("Hilltop", "Hill\udcfftop")
    enrollments = fixture_text("v1p1", "enrollments.csv") + "e9,,,c-math3,s1\n"
    files: dict[str, str | None] = {
        "classes.csv": classes,
        "users.csv": users,
        "enrollments.csv": enrollments,
        "academicSessions.csv": "",
    }
    folder = bundle(tmp_path, files=files)
    (folder / "orgs.csv").write_bytes(orgs.encode("utf-8", "surrogateescape"))

    assert problems(folder, tmp_path) == [
        "orgs.csv:4: (file): not valid UTF-8; nothing after it read",
        "academicSessions.csv:1: (header): the file is empty; a header row is required",
        "users.csv:1: sms: the column appears twice",
        "users.csv:1: email: missing column",
        "classes.csv:1: termSourcedIds: missing column",
        "enrollments.csv:7: (row): 5 cells, but the header has 10",
    ]


def test_a_1_2_users_csv_needs_roles_csv(tmp_path: Path) -> None:
    manifest = fixture_text("v1p2", "manifest.csv").replace("file.roles,bulk", "file.roles,absent")
    files: dict[str, str | None] = {"manifest.csv": manifest, "roles.csv": None}

    assert problems(bundle(tmp_path, "v1p2", files), tmp_path) == [
        "users.csv:1: (file): a OneRoster 1.2 users.csv needs roles.csv beside it: "
        "the roles are there"
    ]


def test_made_values_too_long_for_their_native_column(tmp_path: Path) -> None:
    """A calendar id (school and school year ids) or a household name (family names)."""
    school = "s-" + "x" * 40
    session = "year-" + "y" * 20
    orgs = fixture_text("v1p1", "orgs.csv") + f"{school},,,Long Id Academy,school,,d1\n"
    sessions = fixture_text("v1p1", "academicSessions.csv").replace("sy26", session)
    users = (
        fixture_text("v1p1", "users.csv")
        .replace(",Rosa,Diaz,", f",Rosa,{'D' * 100},")
        .replace(",Wei,Chen,", f",Wei,{'C' * 100},")
    )
    files = {"orgs.csv": orgs, "academicSessions.csv": sessions, "users.csv": users}

    assert problems(bundle(tmp_path, files=dict(files)), tmp_path) == [
        f"academicSessions.csv:2: sourcedId: the calendar id '{school}-{session}' "
        "is longer than 64 characters",
        "users.csv:5: familyName: the household name made from it is longer than 200 characters",
    ]
