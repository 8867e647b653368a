"""Students and their parents, guardians and relatives: agentSourcedIds in either direction,
the entries skipped with a note, and the households the guardians make."""

from hashlib import sha1
from pathlib import Path

import pytest

from tests.unit.test_oneroster_fixtures import bundle, edit, expected, fixture_text, run

USERS_HEADER = (
    "sourcedId,status,dateLastModified,enabledUser,orgSourcedIds,role,username,userIds,"
    "givenName,familyName,middleName,identifier,email,sms,phone,agentSourcedIds,grades,password\n"
)
LINK_FILES = ["householdMembers.csv", "households.csv", "relationships.csv"]


def users_bundle(tmp_path: Path, users: str) -> Path:
    """The 1.1 fixture's orgs with these users, and no sessions, classes or enrollments."""
    manifest = fixture_text("v1p1", "manifest.csv")
    for name in ("academicSessions", "classes", "enrollments"):
        manifest = manifest.replace(f"file.{name},bulk", f"file.{name},absent")
    files: dict[str, str | None] = {"manifest.csv": manifest, "users.csv": USERS_HEADER + users}
    files.update(dict.fromkeys(["academicSessions.csv", "classes.csv", "enrollments.csv"]))
    return bundle(tmp_path, files=files)


def _agents(given: dict[str, str]) -> str:
    """The fixture's 1.1 users.csv with each user's agentSourcedIds as `given` says."""

    def change(rows: list[list[str]]) -> None:
        at = rows[0].index("agentSourcedIds")
        for row in rows[1:]:
            row[at] = given.get(row[0], "")

    return edit(fixture_text("v1p1", "users.csv"), change)


STUDENT_SIDE = {"u-s100": "u-p200,u-p201", "u-s101": "u-p201,u-p200", "u-s102": "u-r300,u-p201"}
CONTACT_SIDE = {"u-p200": "u-s100,u-s101", "u-p201": "u-s102,u-s101,u-s100", "u-r300": "u-s102"}


@pytest.mark.parametrize(
    "given",
    [STUDENT_SIDE, CONTACT_SIDE, {**STUDENT_SIDE, **CONTACT_SIDE}],
    ids=["on the students' rows", "on the contacts' rows", "on both"],
)
def test_a_link_given_in_one_direction_or_both_is_one_link(
    tmp_path: Path, given: dict[str, str]
) -> None:
    translation, written = run(bundle(tmp_path, files={"users.csv": _agents(given)}), tmp_path)

    assert {name: written[name] for name in LINK_FILES} == {
        name: expected()[name] for name in LINK_FILES
    }
    assert translation.notes == ()


def test_entries_that_make_no_link_are_skipped_with_a_note(tmp_path: Path) -> None:
    users = (
        "s1u,,,true,s1,student,,,Ana,Ruiz,,S1,,,,,04,\n"
        's2u,,,true,s1,student,,,Ben,Ruiz,,S2,,,,"g1u,g1u",02,\n'
        's3u,,,true,s2,student,,,Cal,Webb,,S3,,,,"r1u,t1u,zz",06,\n'
        'g1u,,,true,s1,parent,,,Eva,Ruiz,,,,,,"s1u,s2u",,\n'
        "g2u,,,true,s1,guardian,,,Max,Ruiz,,,,,,s1u,,\n"
        "r1u,,,true,s2,relative,,,Ida,Webb,,,,,,s3u,,\n"
        't1u,,,true,s1,teacher,,,Tom,Hale,,T1,,,,"g1u,s2u",,\n'
        'g3u,,,true,s1,parent,,,Zoe,Park,,,,,,"g3u,s3u",,\n'
    )
    translation, written = run(users_bundle(tmp_path, users), tmp_path)

    assert translation.notes == (
        "users.csv:4: agentSourcedIds: 't1u' is not a parent, guardian or relative; skipped",
        "users.csv:4: agentSourcedIds: 'zz' names no user in the bundle; skipped",
        "users.csv:8: agentSourcedIds: 'g1u' and this user: neither is a student; skipped",
        "users.csv:8: agentSourcedIds: 's2u' is a student, but this user is not a parent, "
        "guardian or relative; skipped",
        "users.csv:9: agentSourcedIds: 'g3u' is this user; skipped",
    )
    assert written["relationships.csv"] == (
        "studentId,contactId,name,guardian,messenger,startDate,endDate\n"
        "s1u,g1u,Parent,true,true,,\n"
        "s1u,g2u,Guardian,true,true,,\n"
        "s2u,g1u,Parent,true,true,,\n"
        "s3u,r1u,Relative,false,false,,\n"
        "s3u,g3u,Parent,true,true,,\n"
    )


def test_students_with_the_same_guardians_share_a_household(tmp_path: Path) -> None:
    """Relatives count for no household; a family name shared by the guardians is named once;
    the id hashes the guardians' sorted sourcedIds. A household is written with its guardians
    when its first student joins; a later student joins it where it is met."""
    users = (
        's1u,,,true,s1,student,,,Ana,Ruiz,,S1,,,,"g2u,g1u",04,\n'
        "s2u,,,true,s1,student,,,Ben,Ruiz,,S2,,,,g1u,02,\n"
        's3u,,,true,s2,student,,,Cal,Webb,,S3,,,,"r1u,g3u",06,\n'
        "s4u,,,true,s2,student,,,Dee,Webb,,S4,,,,r1u,06,\n"
        's5u,,,true,s1,student,,,Eli,Ruiz,,S5,,,,"g1u,g2u",01,\n'
        "g1u,,,true,s1,parent,,,Eva,Ruiz,,,,,,,,\n"
        "g2u,,,true,s1,guardian,,,Max,Ruiz,,,,,,,,\n"
        "r1u,,,true,s2,relative,,,Ida,Webb,,,,,,,,\n"
        "g3u,,,true,s1,parent,,,Zoe,Park,,,,,,,,\n"
        "s6u,,,true,s2,student,,,Fay,Lund,,S6,,,,,06,\n"
    )
    _, written = run(users_bundle(tmp_path, users), tmp_path)

    both = "hh-" + sha1(b"g1u\ng2u").hexdigest()[:20]
    one = "hh-" + sha1(b"g1u").hexdigest()[:20]
    park = "hh-" + sha1(b"g3u").hexdigest()[:20]
    assert (both, one, park) == (
        "hh-4e04d9f0dffed209c65d",
        "hh-099054223750f44903e7",
        "hh-5158520d93711a77a602",
    )
    assert written["households.csv"] == (
        "householdId,name,phone\n"
        f"{both},Ruiz household,\n"
        f"{one},Ruiz household,\n"
        f"{park},Park household,\n"
    )
    assert written["householdMembers.csv"] == (
        "householdId,personId,startDate,endDate\n"
        f"{both},g1u,,\n{both},g2u,,\n{both},s1u,,\n"
        f"{one},g1u,,\n{one},s2u,,\n"
        f"{park},g3u,,\n{park},s3u,,\n"
        f"{both},s5u,,\n"
    )


def test_a_1_2_user_with_several_contact_roles_is_named_by_the_first(tmp_path: Path) -> None:
    """parent before guardian before relative, whichever roles.csv gives first."""
    roles = fixture_text("v1p2", "roles.csv") + (
        "r11,,,u-p201,secondary,relative,,,s2,\n"
        "r12,,,u-p201,secondary,parent,,,s2,\n"
        "r13,,,u-r300,secondary,guardian,,,s2,\n"
    )
    _, written = run(bundle(tmp_path, "v1p2", {"roles.csv": roles}), tmp_path)

    assert written["relationships.csv"] == (
        "studentId,contactId,name,guardian,messenger,startDate,endDate\n"
        "u-s100,u-p200,Parent,true,true,,\n"
        "u-s100,u-p201,Parent,true,true,,\n"
        "u-s101,u-p200,Parent,true,true,,\n"
        "u-s101,u-p201,Parent,true,true,,\n"
        "u-s102,u-p201,Parent,true,true,,\n"
        "u-s102,u-r300,Guardian,true,true,,\n"
    )
    chen_lopez = "hh-" + sha1(b"u-p201\nu-r300").hexdigest()[:20]
    assert written["households.csv"].splitlines()[2] == f"{chen_lopez},Chen / Lopez household,"
