"""The synthetic district of `cpb seed` written as a OneRoster 1.1 CSV bundle (`cpb seed --format
oneroster --out DIR`): the same people as the native bundle of the same seed and day, so that
the OneRoster import can be tried, and compared, on a district of any size.

It translates the rows of `demo.District` as they are made, holding one family at a time, so a
million students stream in a few minutes. What OneRoster carries, and how:
- orgs: the district (`district`) and each school (its schoolId), the schools under the district.
- academicSessions: a `schoolYear` per school year (`sy2025`, "2025-26", schoolYear 2026, the
  calendars' dates) and two terms of it (`sy2025-fall`, `sy2025-spring`).
- classes and enrollments: an enrollment becomes a homeroom for the year, and for grades 06 and
  up also a class in each term, in the school of its calendar; every class of one enrollment
  carries its dates. The previous year's classes keep the grade of that year, but a user's
  `grades` is their current one.
- users: everyone; identifier = studentNumber or staffNumber, email, phone = homePhone,
  sms = cellPhone. Students list their contacts in agentSourcedIds, and every fourth contact
  (by number) lists their students too. OneRoster 1.1 gives a user one role, so:
  a student is `student`; a contact of a guardian relationship is `parent`, of another
  `relative`; staff are `teacher`, `aide`, or `administrator` for the titles 1.1 has no role for
  (counselor, nurse, secretary, custodian), after their first assignment. A staff member who is
  also a parent is `parent`: their students' guardian links, which decide who is messaged about
  whom, are worth more than their assignment, which is lost (their staff number is kept in
  identifier). orgSourcedIds: a student's schools, a contact's students' schools, a staff
  member's schools (the district for an assignment without one).
Not carried: households (the import derives them), preferences, workPhone and secondaryEmail,
the dates and titles of relationships and assignments, a relationship's messenger flag (a parent
is messaged, a relative not), and an emancipated student's relationship to themselves.
"""

import csv
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from datetime import date
from pathlib import Path
from typing import Any

from shared.imports.demo import District, RowSink, write_demo_bundle

DISTRICT = "district"
DISTRICT_NAME = "Synthetic School District"
# The OneRoster 1.1 CSV columns, in their order.
COLUMNS = {
    "orgs.csv": "sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId",
    "academicSessions.csv": (
        "sourcedId,status,dateLastModified,title,type,startDate,endDate,parentSourcedId,schoolYear"
    ),
    "classes.csv": (
        "sourcedId,status,dateLastModified,title,grades,courseSourcedId,classCode,classType,"
        "location,schoolSourcedId,termSourcedIds,subjects,subjectCodes,periods"
    ),
    "enrollments.csv": (
        "sourcedId,status,dateLastModified,classSourcedId,schoolSourcedId,userSourcedId,role,"
        "primary,beginDate,endDate"
    ),
    "users.csv": (
        "sourcedId,status,dateLastModified,enabledUser,orgSourcedIds,role,username,userIds,"
        "givenName,familyName,middleName,identifier,email,sms,phone,agentSourcedIds,grades,"
        "password"
    ),
}
MANIFEST = (
    ("manifest.version", "1.0"),
    ("oneroster.version", "1.1"),
    *(
        (f"file.{name}", "bulk" if f"{name}.csv" in COLUMNS else "absent")
        for name in (
            "academicSessions categories classes classResources courses courseResources "
            "demographics enrollments lineItems orgs resources results users"
        ).split()
    ),
    ("source.systemName", "Contact Preferences Batch (cpb seed)"),
)
USER_COLUMNS = COLUMNS["users.csv"].split(",")
STAFF_ROLES = {"Teacher": "teacher", "Aide": "aide"}  # any other title: administrator
SENIOR_GRADES = {"06", "07", "08", "09", "10", "11", "12"}  # with a class in each term
TERMS = ("fall", "spring")


def write_oneroster_bundle(
    directory: Path, students: int = 300, seed: int = 1, today: date | None = None
) -> None:
    """Write the district of `write_demo_bundle(directory, students, seed, today)` to
    `directory` as the six files of a OneRoster 1.1 bundle."""
    directory.mkdir(parents=True, exist_ok=True)
    with ExitStack() as stack:
        sinks: dict[str, RowSink] = {}
        for name in ("manifest.csv", *COLUMNS):
            stream = stack.enter_context(
                (directory / name).open("w", encoding="utf-8", newline="", buffering=1 << 20)
            )
            writer = csv.writer(stream)
            writer.writerow(
                COLUMNS[name].split(",") if name in COLUMNS else ("propertyName", "value")
            )
            sinks[name.removesuffix(".csv")] = writer.writerow
        for line in MANIFEST:
            sinks["manifest"](line)
        translator = _Translator(sinks)
        district = District(translator.sinks(), seed, today or date.today())
        district.write(students, settled=translator.settle)


# The bundles `cpb seed --out` writes, by --format: each takes a folder, students and a seed.
SEED_WRITERS: dict[str, Callable[[Path, int, int], None]] = {
    "native": write_demo_bundle,
    "oneroster": write_oneroster_bundle,
}


class _User:
    """A person while their family is made: what their users.csv row needs."""

    __slots__ = (
        "id given_name family_name identifier phone sms email student "
        "orgs agents grade year titles guardian"
    ).split()

    def __init__(self, row: Sequence[Any]) -> None:
        self.id, self.given_name, self.family_name, student_number, staff_number = row[:5]
        self.phone, _work, self.sms, self.email, _secondary = row[5:]
        self.identifier = student_number or staff_number
        self.student = bool(student_number)
        self.orgs: dict[str, None] = {}  # an ordered set
        self.agents: list[str] = []
        self.grade = ""
        self.year = ""  # the session of `grade`
        self.titles: list[str] = []
        self.guardian: bool | None = None  # a contact: of a guardian relationship or not


class _Translator:
    """Native rows in, OneRoster rows out; users wait until their family is settled."""

    def __init__(self, out: dict[str, RowSink]) -> None:
        self.out = out
        self.calendars: dict[str, tuple[str, str]] = {}  # calendarId: schoolId, session
        self.sessions: set[str] = set()
        self.classes: set[str] = set()
        self.family: dict[str, _User] = {}
        out["orgs"]((DISTRICT, "", "", DISTRICT_NAME, "district", "", ""))

    def sinks(self) -> dict[str, RowSink]:
        return {
            "schools": self.school,
            "calendars": self.calendar,
            "people": self.person,
            "households": _ignore,
            "householdMembers": _ignore,
            "enrollments": self.enrollment,
            "relationships": self.relationship,
            "districtAssignments": self.assignment,
            "preferences": _ignore,
        }

    def school(self, row: Sequence[Any]) -> None:
        school_id, name = row
        self.out["orgs"]((school_id, "", "", name, "school", "", DISTRICT))

    def calendar(self, row: Sequence[Any]) -> None:
        calendar_id, school_id, _name, label, start, end = row
        year = int(label[:4])
        session = f"sy{year}"
        self.calendars[calendar_id] = (school_id, session)
        if session in self.sessions:
            return
        self.sessions.add(session)
        ends = str(year + 1)
        self.out["academicSessions"]((session, "", "", label, "schoolYear", start, end, "", ends))
        halves = ((start, f"{year}-12-31"), (f"{year + 1}-01-01", end))
        for term, (first, last) in zip(TERMS, halves, strict=True):
            title = f"{label} {term.capitalize()}"
            self.out["academicSessions"](
                (f"{session}-{term}", "", "", title, "term", first, last, session, ends)
            )

    def person(self, row: Sequence[Any]) -> None:
        self.family[row[0]] = _User(row)

    def assignment(self, row: Sequence[Any]) -> None:
        user = self.family[row[0]]
        user.titles.append(row[2])
        user.orgs[row[1] or DISTRICT] = None

    def relationship(self, row: Sequence[Any]) -> None:
        student_id, contact_id, _title, guardian = row[:4]
        if student_id == contact_id:
            return  # an emancipated student: not an agent of themselves
        self.family[student_id].agents.append(contact_id)
        contact = self.family[contact_id]
        contact.guardian = bool(contact.guardian) or guardian == "true"
        contact.agents.append(student_id)

    def enrollment(self, row: Sequence[Any]) -> None:
        person_id, calendar_id, grade, start, end = row
        school_id, session = self.calendars[calendar_id]
        user = self.family[person_id]
        user.orgs[school_id] = None
        if session > user.year:
            user.grade, user.year = grade, session
        prefix = f"{school_id}-{session}-{grade}"
        section = "ABC"[_number(person_id) % 3]  # the same homeroom every year
        classes = [(f"{prefix}-{section}", session, f"Homeroom {grade}-{section}", "homeroom")]
        if grade in SENIOR_GRADES:
            classes += [
                (f"{prefix}-{term}", f"{session}-{term}", f"Grade {grade} {term}", "scheduled")
                for term in TERMS
            ]
        for class_id, term, title, class_type in classes:
            if class_id not in self.classes:
                self.classes.add(class_id)
                code = class_id.removeprefix(f"{school_id}-")
                self.out["classes"](
                    (class_id, "", "", title, grade, "", code, class_type, "", school_id, term)
                    + ("", "", "")
                )
            self.out["enrollments"](
                (f"{class_id}-{person_id}", "", "", class_id, school_id, person_id, "student")
                + ("", str(start), str(end))
            )

    def settle(self) -> None:
        """Write the users of a staff member or a family whose rows are all made."""
        for user in self.family.values():
            self.out["users"](self._user_row(user))
        self.family = {}

    def _user_row(self, user: _User) -> list[str]:
        agents = user.agents
        if user.student:
            role, orgs = "student", user.orgs
        elif user.guardian is not None:
            role = "parent" if user.guardian else "relative"
            orgs = {org: None for child in agents for org in self.family[child].orgs}
            agents = agents if _number(user.id) % 4 == 0 else []
        else:
            role = STAFF_ROLES.get(next(iter(user.titles), ""), "administrator")
            orgs = user.orgs
        cells = {
            "sourcedId": user.id,
            "enabledUser": "true",
            "orgSourcedIds": ",".join(orgs),
            "role": role,
            "username": user.id,
            "givenName": user.given_name,
            "familyName": user.family_name,
            "identifier": user.identifier,
            "email": user.email,
            "sms": user.sms,
            "phone": user.phone,
            "agentSourcedIds": ",".join(agents),
            "grades": user.grade,
        }
        return [cells.get(column, "") for column in USER_COLUMNS]


def _number(person_id: str) -> int:
    return int(person_id[1:])


def _ignore(row: Sequence[Any]) -> None:
    """The sink of what OneRoster does not carry."""
