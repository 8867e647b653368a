"""Bulk and delta files: what a translation says is the full state, what ends, and how a
student's several class enrollments in one calendar become one enrollment."""

from pathlib import Path

from tests.unit.test_oneroster_fixtures import (
    EVERY_NATIVE,
    UNKNOWN_AGENT,
    bundle,
    expected,
    fixture_text,
    problems,
    run,
)

ENROLLMENTS_HEADER = (
    "sourcedId,status,dateLastModified,classSourcedId,schoolSourcedId,userSourcedId,role,"
    "primary,beginDate,endDate\n"
)
DELETED_P201 = "u-p201,tobedeleted,2025-09-01T10:00:00Z" + "," * 15


def _mode(version: str, **modes: str) -> str:
    text = fixture_text(version, "manifest.csv")
    for name, mode in modes.items():
        text = text.replace(f"file.{name},bulk", f"file.{name},{mode}")
    return text


def _without_p201(users: str) -> str:
    """The fixture's users with Wei Chen (u-p201) marked tobedeleted, giving only his id."""
    lines = users.splitlines(keepends=True)
    return "".join(DELETED_P201 + "\n" if line.startswith("u-p201,") else line for line in lines)


def test_a_user_to_be_deleted_in_a_delta_file_is_ended_and_makes_no_row(tmp_path: Path) -> None:
    files: dict[str, str | None] = {
        "manifest.csv": _mode("v1p1", users="delta"),
        "users.csv": _without_p201(fixture_text("v1p1", "users.csv")),
    }
    translation, written = run(bundle(tmp_path, files=files), tmp_path)

    assert translation.ended_people == ("u-p201",)
    assert translation.bulk == frozenset({"enrollments.csv"})
    assert translation.notes == (UNKNOWN_AGENT,)  # the links to u-p201 end without a note
    assert "u-p201" not in written["people.csv"]
    assert written["relationships.csv"] == (
        "studentId,contactId,name,guardian,messenger,startDate,endDate\n"
        "u-s100,u-p200,Parent,true,true,,\n"
        "u-s101,u-p200,Parent,true,true,,\n"
        "u-s102,u-r300,Relative,false,false,,\n"
    )
    assert written["households.csv"] == (
        "householdId,name,phone\nhh-c4950daff44f3aa905ac,Diaz household,\n"
    )
    assert written["householdMembers.csv"] == (
        "householdId,personId,startDate,endDate\n"
        "hh-c4950daff44f3aa905ac,u-p200,,\n"
        "hh-c4950daff44f3aa905ac,u-s100,,\n"
        "hh-c4950daff44f3aa905ac,u-s101,,\n"
    )


def test_a_user_to_be_deleted_in_a_bulk_file_is_left_out_without_ending(tmp_path: Path) -> None:
    users = _without_p201(fixture_text("v1p1", "users.csv"))
    translation, written = run(bundle(tmp_path, files={"users.csv": users}), tmp_path)

    assert translation.ended_people == ()
    assert translation.bulk == EVERY_NATIVE
    assert "u-p201" not in written["people.csv"]
    assert written["people.csv"].count("\n") == 8


def test_student_enrollments_to_be_deleted_in_a_delta_file_are_ended(tmp_path: Path) -> None:
    """Unless the student still has an active class enrollment in that calendar."""
    enrollments = ENROLLMENTS_HEADER + (
        "e1,tobedeleted,,c-math3,s1,u-s100,student,false,2025-08-18,2025-12-19\n"
        "e2,active,,c-read3,s1,u-s100,student,false,2026-01-05,2026-06-05\n"
        "e3,TOBEDELETED,,c-home5,s1,u-s101,student,false,2025-08-18,\n"
        "e4,,,c-sci7,s2,u-s102,student,false,2025-08-25,2025-10-17\n"
        "e5,tobedeleted,,c-math3,s1,u-t400,teacher,true,,\n"
    )
    files: dict[str, str | None] = {
        "manifest.csv": _mode("v1p1", enrollments="delta"),
        "enrollments.csv": enrollments,
    }
    translation, written = run(bundle(tmp_path, files=files), tmp_path)

    assert translation.ended_enrollments == (("u-s101", "s1-sy26"),)
    assert translation.bulk == EVERY_NATIVE - {"enrollments.csv"}
    assert written["enrollments.csv"] == (
        "personId,calendarId,grade,startDate,endDate\n"
        "u-s100,s1-sy26,03,2026-01-05,2026-06-05\n"
        "u-s102,s2-sy26,07,2025-08-25,2025-10-17\n"
    )


def test_a_students_classes_in_one_calendar_make_one_enrollment(tmp_path: Path) -> None:
    """From the earliest begin to the latest end; an empty date on any class leaves it empty."""
    enrollments = ENROLLMENTS_HEADER + (
        "e1,,,c-math3,s1,u-s100,student,false,2025-08-18,2025-12-19\n"
        "e2,,,c-sci7,s2,u-s102,student,false,2025-08-25,2025-10-17\n"
        "e3,,,c-read3,s1,u-s100,student,false,2026-01-05,2026-06-05\n"
        "e4,,,c-home5,s1,u-s101,student,false,2025-09-02,\n"
        "e5,,,c-home5,s1,u-s100,student,false,,2026-05-29\n"
        "e6,,,c-math3,s1,u-s101,student,false,2025-08-20,2025-12-19\n"
        "e7,,,c-math3,s1,u-s102,student,false,2025-09-15,2025-12-19\n"
        "e8,,,c-read3,s1,u-s102,student,false,2026-01-05,2026-03-31\n"
    )
    _, written = run(bundle(tmp_path, files={"enrollments.csv": enrollments}), tmp_path)

    assert written["enrollments.csv"] == (
        "personId,calendarId,grade,startDate,endDate\n"
        "u-s100,s1-sy26,03,,2026-06-05\n"
        "u-s102,s2-sy26,07,2025-08-25,2025-10-17\n"
        "u-s101,s1-sy26,05,2025-08-20,\n"
        "u-s102,s1-sy26,07,2025-09-15,2026-03-31\n"
    )


def test_1_2_assignments_are_the_full_state_only_with_users_and_roles_in_bulk(
    tmp_path: Path,
) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    both_delta = _mode("v1p2", users="delta", roles="delta")
    users_delta = bundle(tmp_path / "b", "v1p2", {"manifest.csv": _mode("v1p2", users="delta")})
    roles_delta = bundle(tmp_path / "a", "v1p2", {"manifest.csv": both_delta})

    with_roles_delta, _ = run(roles_delta, tmp_path / "a")
    with_users_delta, _ = run(users_delta, tmp_path / "b")

    assert with_roles_delta.bulk == frozenset({"enrollments.csv"})
    assert with_users_delta.bulk == frozenset({"enrollments.csv"})


def test_a_bulk_users_file_needs_its_roles_in_bulk(tmp_path: Path) -> None:
    """Read with only some of its roles, a bulk users.csv would take the others away."""
    manifest = _mode("v1p2", roles="delta")
    line = manifest.splitlines().index("file.roles,delta") + 1
    assert problems(bundle(tmp_path, "v1p2", {"manifest.csv": manifest}), tmp_path) == [
        f"manifest.csv:{line}: value: file.roles is delta, but file.users is bulk: a bulk "
        "users.csv needs every role, so roles.csv must be bulk too"
    ]


def test_a_staff_role_to_be_deleted_in_a_delta_ends_its_assignment(tmp_path: Path) -> None:
    roles = fixture_text("v1p2", "roles.csv").replace("r9,,", "r9,tobedeleted,")
    files: dict[str, str | None] = {
        "manifest.csv": _mode("v1p2", users="delta", roles="delta"),
        "roles.csv": roles,
    }
    translation, written = run(bundle(tmp_path, "v1p2", files), tmp_path)

    assert written["districtAssignments.csv"] == (
        "personId,schoolId,title,startDate,endDate\n"
        "u-t400,s1,teacher,2025-08-11,2026-06-12\n"
        "u-a500,,districtAdministrator,2024-07-01,\n"
    )
    assert translation.ended_assignments == (("u-t400", "s2", "teacher"),)


def test_a_school_or_school_year_to_be_deleted_makes_no_row(tmp_path: Path) -> None:
    manifest = (
        "propertyName,value\noneroster.version,1.1\nfile.orgs,delta\nfile.academicSessions,delta\n"
    )
    orgs = fixture_text("v1p1", "orgs.csv") + "s3,tobedeleted,,,,,\n"
    sessions = fixture_text("v1p1", "academicSessions.csv") + "sy25,tobedeleted,,,,,,,\n"
    folder = tmp_path / "delta"
    folder.mkdir()
    for name, text in [
        ("manifest.csv", manifest),
        ("orgs.csv", orgs),
        ("academicSessions.csv", sessions),
    ]:
        (folder / name).write_text(text, encoding="utf-8")

    translation, written = run(folder, tmp_path)

    assert written == {name: expected()[name] for name in ("calendars.csv", "schools.csv")}
    assert translation.bulk == frozenset()


def test_an_extension_role_is_no_role(tmp_path: Path) -> None:
    users = fixture_text("v1p1", "users.csv").replace(",teacher,", ",ext:coach,")
    _, written = run(bundle(tmp_path, files={"users.csv": users}), tmp_path)

    assert (
        written["people.csv"].splitlines()[7]
        == "u-t400,Jo,Park,,,,,6125550104,jo.park@lakeside.example,"
    )
    assert written["districtAssignments.csv"] == (
        "personId,schoolId,title,startDate,endDate\nu-a500,,administrator,,\n"
    )


def test_two_orgs_that_are_not_schools_give_one_district_level_assignment(tmp_path: Path) -> None:
    orgs = fixture_text("v1p1", "orgs.csv") + "d2,,,Lakeside Adult Education,local,,d1\n"
    users = fixture_text("v1p1", "users.csv").replace(
        "true,d1,administrator", 'true,"d1,d2,s2",administrator'
    )
    _, written = run(bundle(tmp_path, files={"orgs.csv": orgs, "users.csv": users}), tmp_path)

    assert written["districtAssignments.csv"] == (
        "personId,schoolId,title,startDate,endDate\n"
        "u-t400,s1,teacher,,\n"
        "u-a500,,administrator,,\n"
        "u-a500,s2,administrator,,\n"
    )
