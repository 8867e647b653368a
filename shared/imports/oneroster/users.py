"""users.csv, first reading: who is in the bundle and what the other files need to know of
them, a few bytes a user; people.csv is written by a second reading (people.py), once every
role is known (in 1.2 they are in roles.csv, which refers to the users).

OneRoster 1.1 gives each user's `role` and `orgSourcedIds` on the user row; a staff role there
makes a district assignment at each of its orgs, with no dates. OneRoster 1.2 users.csv has
no role: roles.csv gives them (roles.py).
"""

from array import array
from dataclasses import dataclass, field
from typing import Final

from shared.imports.native.formats import ENROLLMENTS, PEOPLE
from shared.imports.native.reading import cell_problem
from shared.imports.oneroster.assignments import Assignments
from shared.imports.oneroster.orgs import Orgs
from shared.imports.oneroster.source import Found, Source, absent
from shared.imports.oneroster.values import (
    DELETED,
    EXTENSION,
    ROLES,
    STAFF_ROLES,
    enum,
    items,
    status,
    status_problem,
)

NAME: Final = "users.csv"
COMMON: Final = (
    "sourcedId",
    "status",
    "givenName",
    "familyName",
    "identifier",
    "email",
    "sms",
    "phone",
    "agentSourcedIds",
    "grades",
)
COLUMNS: Final = {"1.1": (*COMMON, "role", "orgSourcedIds"), "1.2": COMMON}

# A user's bits: the roles it has, and DROPPED for a user marked tobedeleted (in a delta file:
# its links end; in a bulk file: left out, as if absent). A dropped user makes no row anywhere.
STUDENT: Final = 1
PARENT: Final = 2
GUARDIAN: Final = 4
RELATIVE: Final = 8
STAFF: Final = 16
DROPPED: Final = 32
CONTACT: Final = PARENT | GUARDIAN | RELATIVE
ROLE_BITS: Final = {
    "student": STUDENT,
    "parent": PARENT,
    "guardian": GUARDIAN,
    "relative": RELATIVE,
    **dict.fromkeys(STAFF_ROLES, STAFF),
}
_CHECKED: Final = (
    (2, "givenName", PEOPLE.field("firstName")),
    (3, "familyName", PEOPLE.field("lastName")),
    (4, "identifier", PEOPLE.field("studentNumber")),
)


@dataclass
class Users:
    found: Found
    ids: list[str] = field(default_factory=list)
    lines: "array[int]" = field(default_factory=lambda: array("l"))
    bits: bytearray = field(default_factory=bytearray)
    grades: "array[int]" = field(default_factory=lambda: array("I"))  # into grade_names
    grade_names: list[str] = field(default_factory=lambda: [""])
    ended: list[str] = field(default_factory=list)  # tobedeleted in a delta file

    def grade(self, user: int) -> str:
        return self.grade_names[self.grades[user]]


def read_users(
    source: Source | None,
    version: str,
    delta: bool,
    orgs: Orgs,
    assignments: Assignments | None,
) -> Users:
    """The users; in 1.1 their roles too, writing their assignments to `assignments`."""
    if source is None:
        return Users(absent(NAME))
    ids: dict[str, int] = {}
    users = Users(Found(NAME, ids, True, False))
    grade_codes = {"": 0}
    grade_field = ENROLLMENTS.field("grade")
    for line, cells in source.rows():
        sourced_id = cells[0]
        if (problem := cell_problem(PEOPLE.field("personId"), sourced_id)) is not None:
            source.problem(line, "sourcedId", problem)
            if not sourced_id:
                continue
        if sourced_id in ids:
            first = users.lines[ids[sourced_id]]
            source.problem(line, "sourcedId", f"{sourced_id!r} is also on line {first}")
            continue
        state = status(cells[1])
        if state is None:
            source.problem(line, "status", status_problem(cells[1]))
        user = len(users.ids)
        ids[sourced_id] = user
        users.ids.append(sourced_id)
        users.lines.append(line)
        if state == DELETED:  # only its id is read: a delta may give no more
            users.bits.append(DROPPED)
            users.grades.append(0)
            if delta:
                users.ended.append(sourced_id)
            continue
        for k, column, fld in _CHECKED:
            if (problem := cell_problem(fld, cells[k])) is not None:
                source.problem(line, column, problem)
        grades = items(cells[9])
        grade = grades[0] if grades else ""
        if (problem := cell_problem(grade_field, grade)) is not None:
            source.problem(line, "grades", problem)
        users.grades.append(grade_codes.setdefault(grade, len(grade_codes)))
        bits = 0
        if version == "1.1":
            bits = _roles_1_1(source, line, cells[10], cells[11], orgs, sourced_id, assignments)
        users.bits.append(bits)
    users.grade_names = list(grade_codes)
    if source.complete:
        users.found = Found(NAME, ids, True, True)
    return users


def _roles_1_1(
    source: Source,
    line: int,
    role_cell: str,
    orgs_cell: str,
    orgs: Orgs,
    person_id: str,
    assignments: Assignments | None,
) -> int:
    """The bits of a 1.1 user's role, a staff role's assignments written at its orgs."""
    role = enum(role_cell, ROLES)
    if role is None:
        source.problem(line, "role", role_problem(role_cell))
    found = [
        org
        for org_id in items(orgs_cell)
        if (org := orgs.found.find(source, line, "orgSourcedIds", org_id)) is not None
    ]
    if role is None or role == EXTENSION:
        return 0
    if role in STAFF_ROLES and assignments is not None:
        for org in found:
            assignments.add(person_id, org, role, "", "")
    return ROLE_BITS[role]


def role_problem(cell: str) -> str:
    if not cell:
        return "required, but empty"
    return f"{cell!r} is not a OneRoster role"
