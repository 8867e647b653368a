"""roles.csv (OneRoster 1.2): each row gives a user a role at an org. `student`, `parent`,
`guardian` and `relative` say who the user is (people.py and links.py read them); a staff role
makes a district assignment at the org with the role's beginDate and endDate. roleType
(primary or secondary) and userProfileSourcedId are not used."""

from collections.abc import Callable
from typing import Final

from shared.imports.oneroster.assignments import Assignments
from shared.imports.oneroster.duplicates import RepeatedIds, report_repeated
from shared.imports.oneroster.orgs import Orgs
from shared.imports.oneroster.source import Source
from shared.imports.oneroster.users import DROPPED, ROLE_BITS, Users, role_problem
from shared.imports.oneroster.values import (
    DELETED,
    EXTENSION,
    ROLES,
    STAFF_ROLES,
    Dates,
    date_problem,
    enum,
    status,
    status_problem,
)

NAME: Final = "roles.csv"
COLUMNS: Final = (
    "sourcedId",
    "status",
    "userSourcedId",
    "role",
    "orgSourcedId",
    "beginDate",
    "endDate",
)
Finder = Callable[[Source, int, str, str], int | None]


def read_roles(
    source: Source, users: Users, orgs: Orgs, assignments: Assignments, delta: bool
) -> None:
    """The roles into `users.bits`, the staff roles into `assignments`. A role row marked
    tobedeleted gives nothing: in bulk, the caller ends what the file no longer gives; in
    delta, a staff role's assignment is listed for the caller to end."""
    repeated = RepeatedIds()
    dates = Dates()
    for line, cells in source.rows():
        sourced_id, state_cell, user_id, role_cell, org_id, begin_cell, end_cell = cells
        if sourced_id:
            repeated.add(sourced_id)
        else:
            source.problem(line, "sourcedId", "required, but empty")
        state = status(state_cell)
        if state is None:
            source.problem(line, "status", status_problem(state_cell))
        user = _find(source, line, "userSourcedId", user_id, users.found.find)
        role = enum(role_cell, ROLES)
        if role is None:
            source.problem(line, "role", role_problem(role_cell))
        org = _find(source, line, "orgSourcedId", org_id, orgs.found.find)
        period = []
        for column, cell in (("beginDate", begin_cell), ("endDate", end_cell)):
            value = dates.read(cell)
            if value is None:
                source.problem(line, column, date_problem(cell))
            period.append(value)
        if user is None or role is None or role == EXTENSION:
            continue
        if state == DELETED:
            if delta and role in STAFF_ROLES and org is not None:
                assignments.end(users.ids[user], org, role)
            continue
        if users.bits[user] & DROPPED:
            continue
        users.bits[user] |= ROLE_BITS[role]
        start, end = period
        if role in STAFF_ROLES and org is not None and start is not None and end is not None:
            assignments.add(users.ids[user], org, role, start, end)
    report_repeated(source, repeated)


def _find(source: Source, line: int, column: str, value: str, find: Finder) -> int | None:
    if not value:
        source.problem(line, column, "required, but empty")
        return None
    return find(source, line, column, value)
