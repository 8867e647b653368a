"""enrollments.csv: each student enrollment in a class counts toward one native enrollment per
student and calendar (the class's), from the earliest beginDate to the latest endDate of the
student's classes in that calendar; an empty date on any of them leaves that date empty.
Enrollments with any other role (teacher, administrator, ...) are not used, though their
references are checked like the others'.

To hold a million students' enrollments, each (student, calendar) is one int key and its span
one int: the begin date's ordinal shifted left of the end date's.
"""

from dataclasses import dataclass, field
from datetime import date
from typing import Final

from shared.imports.native.formats import ENROLLMENTS
from shared.imports.oneroster.classes import Classes
from shared.imports.oneroster.duplicates import RepeatedIds, report_repeated
from shared.imports.oneroster.orgs import Orgs, find_school
from shared.imports.oneroster.output import Output
from shared.imports.oneroster.sessions import Sessions, calendar_id
from shared.imports.oneroster.source import Source
from shared.imports.oneroster.users import DROPPED, Users, role_problem
from shared.imports.oneroster.values import (
    DELETED,
    ROLES,
    Dates,
    date_problem,
    enum,
    status,
    status_problem,
)

NAME: Final = "enrollments.csv"
COLUMNS: Final = (
    "sourcedId",
    "status",
    "classSourcedId",
    "schoolSourcedId",
    "userSourcedId",
    "role",
    "beginDate",
    "endDate",
)
_BITS: Final = 22  # date.max's ordinal, 3652059, is below 2**22
_NO_END: Final = (1 << _BITS) - 1  # an empty end date: later than any other
_NO_BEGIN: Final = 0  # an empty begin date: earlier than any other


@dataclass
class Enrolled:
    spans: dict[int, int] = field(default_factory=dict)  # student * codes + calendar -> span
    ended: dict[int, None] = field(default_factory=dict)  # tobedeleted in a delta file
    codes: int = 0  # how many calendar codes there are


def read_enrollments(
    source: Source, delta: bool, users: Users, orgs: Orgs, sessions: Sessions, classes: Classes
) -> Enrolled:
    codes = len(orgs.ids) * len(sessions.years)
    enrolled = Enrolled(codes=codes)
    spans = enrolled.spans
    repeated = RepeatedIds()
    dates = Dates()
    ordinals = {"": 0}
    for line, cells in source.rows():
        sourced_id, state_cell, class_id, school_id, user_id, role_cell, begin, end = cells
        if sourced_id:
            repeated.add(sourced_id)
        else:
            source.problem(line, "sourcedId", "required, but empty")
        state = status(state_cell)
        if state is None:
            source.problem(line, "status", status_problem(state_cell))
        found = []
        for column, named, known in (
            ("classSourcedId", class_id, classes.found),
            ("userSourcedId", user_id, users.found),
        ):
            if not named:
                source.problem(line, column, "required, but empty")
            found.append(known.find(source, line, column, named) if named else None)
        find_school(orgs, source, line, "schoolSourcedId", school_id)
        role = enum(role_cell, ROLES)
        if role is None:
            source.problem(line, "role", role_problem(role_cell))
        begin_date, end_date = dates.read(begin), dates.read(end)
        for column, cell, read in (("beginDate", begin, begin_date), ("endDate", end, end_date)):
            if read is None:
                source.problem(line, column, date_problem(cell))
            elif read not in ordinals:
                ordinals[read] = date.fromisoformat(read).toordinal()
        class_, user = found
        if role != "student" or class_ is None or user is None:
            continue
        calendar = classes.calendars[class_]
        if calendar < 0 or begin_date is None or end_date is None:
            continue
        key = user * codes + calendar
        if state == DELETED:
            if delta:
                enrolled.ended[key] = None
            continue
        if users.bits[user] & DROPPED:
            continue
        start = ordinals[begin_date] if begin_date else _NO_BEGIN
        finish = ordinals[end_date] if end_date else _NO_END
        before = spans.get(key)
        if before is not None:
            start = min(start, before >> _BITS)
            finish = max(finish, before & _NO_END)
        spans[key] = start << _BITS | finish
    report_repeated(source, repeated)
    return enrolled


def write_enrollments(
    output: Output, enrolled: Enrolled, users: Users, orgs: Orgs, sessions: Sessions
) -> tuple[tuple[str, str], ...]:
    """enrollments.csv, in the order each student and calendar first appear; returns the
    (person, calendar) pairs marked tobedeleted that no active class enrollment keeps."""
    out = output.open(ENROLLMENTS)
    names: dict[int, str] = {_NO_BEGIN: "", _NO_END: ""}
    for key, span in enrolled.spans.items():
        user, code = divmod(key, enrolled.codes)
        period = []
        for ordinal in (span >> _BITS, span & _NO_END):
            if ordinal not in names:
                names[ordinal] = date.fromordinal(ordinal).isoformat()
            period.append(names[ordinal])
        calendar = calendar_id(orgs, sessions, code)
        out.write((users.ids[user], calendar, users.grade(user), *period))
    return tuple(
        (users.ids[user], calendar_id(orgs, sessions, code))
        for key in enrolled.ended
        if key not in enrolled.spans
        for user, code in (divmod(key, enrolled.codes),)
    )
