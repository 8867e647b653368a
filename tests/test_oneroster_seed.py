"""The synthetic district as a OneRoster 1.1 bundle (`cpb seed --format oneroster --out DIR`),
checked against the native bundle of the same seed and day: the same people, links, schools
and enrollments, as shared.imports.oneroster_seed says they are carried."""

import csv
from collections import Counter
from datetime import date
from pathlib import Path

import pytest

from shared.imports.demo import write_demo_bundle
from shared.imports.oneroster_seed import write_oneroster_bundle

TODAY = date(2025, 10, 15)
Rows = dict[str, list[dict[str, str]]]


def read(directory: Path) -> Rows:
    rows = {}
    for path in directory.iterdir():
        with path.open(encoding="utf-8", newline="") as stream:
            rows[path.name] = list(csv.DictReader(stream))
    return rows


@pytest.fixture(scope="module")
def bundles(tmp_path_factory: pytest.TempPathFactory) -> tuple[Rows, Rows]:
    """(native, OneRoster) of 100 students, seed 1: a seed with district-level staff, staff
    who are parents, relatives and an emancipated student."""
    native, roster = tmp_path_factory.mktemp("native"), tmp_path_factory.mktemp("roster")
    write_demo_bundle(native, students=100, seed=1, today=TODAY)
    write_oneroster_bundle(roster, students=100, seed=1, today=TODAY)
    return read(native), read(roster)


def split(cell: str) -> list[str]:
    return cell.split(",") if cell else []


def test_orgs_and_sessions(bundles: tuple[Rows, Rows]):
    native, roster = bundles
    orgs = [
        (o["sourcedId"], o["name"], o["type"], o["parentSourcedId"]) for o in roster["orgs.csv"]
    ]
    assert orgs == [("district", "Synthetic School District", "district", "")] + [
        (s["schoolId"], s["name"], "school", "district") for s in native["schools.csv"]
    ]
    assert {(c["schoolYear"], c["startDate"], c["endDate"]) for c in native["calendars.csv"]} == {
        ("2024-25", "2024-08-20", "2025-06-05"),
        ("2025-26", "2025-08-20", "2026-06-05"),
    }
    sessions = [
        tuple(s[c] for c in ("sourcedId", "title", "type", "startDate", "endDate"))
        + (s["parentSourcedId"], s["schoolYear"])
        for s in roster["academicSessions.csv"]
    ]
    assert sessions == [
        ("sy2024", "2024-25", "schoolYear", "2024-08-20", "2025-06-05", "", "2025"),
        ("sy2024-fall", "2024-25 Fall", "term", "2024-08-20", "2024-12-31", "sy2024", "2025"),
        ("sy2024-spring", "2024-25 Spring", "term", "2025-01-01", "2025-06-05", "sy2024", "2025"),
        ("sy2025", "2025-26", "schoolYear", "2025-08-20", "2026-06-05", "", "2026"),
        ("sy2025-fall", "2025-26 Fall", "term", "2025-08-20", "2025-12-31", "sy2025", "2026"),
        ("sy2025-spring", "2025-26 Spring", "term", "2026-01-01", "2026-06-05", "sy2025", "2026"),
    ]
    for row in [*roster["orgs.csv"], *roster["academicSessions.csv"], *roster["users.csv"]]:
        assert (row["status"], row["dateLastModified"]) == ("", "")  # bulk


def test_the_same_people_with_their_addresses(bundles: tuple[Rows, Rows]):
    native, roster = bundles
    expected = [
        {
            "sourcedId": p["personId"],
            "username": p["personId"],
            "enabledUser": "true",
            "givenName": p["firstName"],
            "familyName": p["lastName"],
            "identifier": p["studentNumber"] or p["staffNumber"],
            "email": p["email"],
            "sms": p["cellPhone"],
            "phone": p["homePhone"],
        }
        for p in native["people.csv"]
    ]
    users = [{column: u[column] for column in expected[0]} for u in roster["users.csv"]]

    assert sorted(users, key=lambda u: u["sourcedId"]) == sorted(
        expected, key=lambda u: u["sourcedId"]
    )
    assert Counter(u["role"] for u in roster["users.csv"])["student"] == 100
    assert len(users) == len(expected) == 218


def roles_from(native: Rows) -> dict[str, str]:
    """The roles the module docstring promises, worked out from the native bundle."""
    roles = {p["personId"]: "student" for p in native["people.csv"] if p["studentNumber"]}
    titles: dict[str, list[str]] = {}
    for a in native["districtAssignments.csv"]:
        titles.setdefault(a["personId"], []).append(a["title"])
    for person, person_titles in titles.items():
        roles[person] = {"Teacher": "teacher", "Aide": "aide"}.get(
            person_titles[0], "administrator"
        )
    for r in native["relationships.csv"]:
        if r["studentId"] != r["contactId"] and roles.get(r["contactId"]) != "parent":
            roles[r["contactId"]] = "parent" if r["guardian"] == "true" else "relative"
    return roles


def test_one_role_each_a_staff_parent_is_a_parent(bundles: tuple[Rows, Rows]):
    native, roster = bundles
    roles = {u["sourcedId"]: u["role"] for u in roster["users.csv"]}
    staff = {a["personId"] for a in native["districtAssignments.csv"]}
    guardians = {r["contactId"] for r in native["relationships.csv"] if r["guardian"] == "true"}

    assert roles == roles_from(native)
    assert set(Counter(roles.values())) == {
        "student",
        "parent",
        "relative",
        "teacher",
        "aide",
        "administrator",
    }
    assert {roles[person] for person in staff & guardians} == {"parent"}


def test_agents_are_the_native_contacts(bundles: tuple[Rows, Rows]):
    native, roster = bundles
    contacts: dict[str, list[str]] = {}
    students: dict[str, list[str]] = {}
    for r in native["relationships.csv"]:
        if r["studentId"] != r["contactId"]:
            contacts.setdefault(r["studentId"], []).append(r["contactId"])
            students.setdefault(r["contactId"], []).append(r["studentId"])
    users = {u["sourcedId"]: u for u in roster["users.csv"]}

    for student, their_contacts in contacts.items():
        assert split(users[student]["agentSourcedIds"]) == their_contacts
    listing = {c for c in students if users[c]["agentSourcedIds"]}
    assert listing == {c for c in students if int(c[1:]) % 4 == 0}  # every fourth contact
    assert 0 < len(listing) < len(students)
    for contact in listing:
        assert split(users[contact]["agentSourcedIds"]) == students[contact]
    others = set(users) - set(contacts) - set(students)
    assert [users[person]["agentSourcedIds"] for person in others] == [""] * len(others)
    emancipated = [r["studentId"] for r in native["relationships.csv"] if r["name"] == "Self"]
    assert len(emancipated) == 1  # their relationship to themselves is not carried
    assert emancipated[0] not in split(users[emancipated[0]]["agentSourcedIds"])


def test_orgs_of_users(bundles: tuple[Rows, Rows]):
    """A student's schools, a staff member's (the district for an assignment without one),
    and a contact's students' schools, in the order they come."""
    native, roster = bundles
    school_of = {c["calendarId"]: c["schoolId"] for c in native["calendars.csv"]}
    own: dict[str, dict[str, None]] = {}  # ordered sets
    for e in native["enrollments.csv"]:
        own.setdefault(e["personId"], {})[school_of[e["calendarId"]]] = None
    for a in native["districtAssignments.csv"]:
        own.setdefault(a["personId"], {})[a["schoolId"] or "district"] = None
    of_students: dict[str, dict[str, None]] = {}
    for r in native["relationships.csv"]:
        if r["studentId"] != r["contactId"]:
            of_students.setdefault(r["contactId"], {}).update(own[r["studentId"]])
    roles = roles_from(native)

    for user in roster["users.csv"]:
        person = user["sourcedId"]
        contact = roles[person] in {"parent", "relative"}
        assert split(user["orgSourcedIds"]) == list((of_students if contact else own)[person])
    assert any(split(u["orgSourcedIds"]) == ["district"] for u in roster["users.csv"])


def test_every_reference_resolves_and_every_id_is_unique(bundles: tuple[Rows, Rows]):
    _, roster = bundles
    ids = {
        name: [row["sourcedId"] for row in rows]
        for name, rows in roster.items()
        if name != "manifest.csv"
    }
    schools = {o["sourcedId"] for o in roster["orgs.csv"] if o["type"] == "school"}

    assert {name: len(set(found)) for name, found in ids.items()} == {
        name: len(found) for name, found in ids.items()
    }
    for s in roster["academicSessions.csv"]:
        assert s["parentSourcedId"] in {"", *ids["academicSessions.csv"]}
    for c in roster["classes.csv"]:
        assert c["schoolSourcedId"] in schools
        assert c["termSourcedIds"] in ids["academicSessions.csv"]
    for e in roster["enrollments.csv"]:
        assert e["classSourcedId"] in ids["classes.csv"]
        assert e["schoolSourcedId"] in schools
        assert e["userSourcedId"] in ids["users.csv"]
    for u in roster["users.csv"]:
        assert set(split(u["orgSourcedIds"])) <= set(ids["orgs.csv"])
        assert set(split(u["agentSourcedIds"])) <= set(ids["users.csv"])


def test_every_enrollment_in_its_school_and_year_with_its_dates(bundles: tuple[Rows, Rows]):
    native, roster = bundles
    calendars = {c["calendarId"]: c for c in native["calendars.csv"]}
    sessions = {s["sourcedId"]: s for s in roster["academicSessions.csv"]}
    classes = {c["sourcedId"]: c for c in roster["classes.csv"]}

    def year_of(class_id: str) -> str:
        """The title of the school year of the class's session (a year, or a term of one)."""
        session = sessions[classes[class_id]["termSourcedIds"]]
        return sessions.get(session["parentSourcedId"], session)["title"]

    carried = Counter(
        (e["userSourcedId"], e["schoolSourcedId"], year_of(e["classSourcedId"]))
        + (classes[e["classSourcedId"]]["grades"], e["beginDate"], e["endDate"])
        for e in roster["enrollments.csv"]
    )
    expected = Counter(
        {
            (e["personId"], calendars[e["calendarId"]]["schoolId"])
            + (
                calendars[e["calendarId"]]["schoolYear"],
                e["grade"],
                e["startDate"],
                e["endDate"],
            ): (1 if e["grade"] in {"KG", "01", "02", "03", "04", "05"} else 3)
            for e in native["enrollments.csv"]
        }
    )

    assert carried == expected  # a homeroom, and a class each term from grade 06
    for e in roster["enrollments.csv"]:
        assert e["schoolSourcedId"] == classes[e["classSourcedId"]]["schoolSourcedId"]
        assert (e["role"], e["primary"]) == ("student", "")
    assert len({e["sourcedId"] for e in roster["enrollments.csv"]}) == len(
        roster["enrollments.csv"]
    )
    assert any(e["beginDate"] == "" for e in roster["enrollments.csv"])


def test_a_students_grade_is_their_current_one(bundles: tuple[Rows, Rows]):
    native, roster = bundles
    current = {c["calendarId"] for c in native["calendars.csv"] if c["schoolYear"] == "2025-26"}
    grades = {
        e["personId"]: e["grade"] for e in native["enrollments.csv"] if e["calendarId"] in current
    }

    assert {u["sourcedId"]: u["grades"] for u in roster["users.csv"] if u["grades"]} == grades
