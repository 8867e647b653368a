"""users.csv, second reading: people.csv, and the links between students and their parents,
guardians and relatives that `agentSourcedIds` gives.

A person is the user: personId the sourcedId, firstName the givenName, lastName the familyName;
the identifier is a student's studentNumber, else a staff member's staffNumber, else not used.
The addresses are written as the file gives them (stripped), unchecked: the native import
checks them itself and quarantines a bad one, so it must see the value. `sms` is the cell
phone's number only; it never says the person agreed to text messages.

A link may be given on the student's row, the contact's row, or both: it is one link. An agent
entry that names no user in the bundle, or that joins two users of whom none is a student, or
a student and a user who is not a parent, guardian or relative, is skipped with a note.
"""

from array import array
from dataclasses import dataclass, field

from shared.imports.native.formats import PEOPLE
from shared.imports.oneroster.output import Output, lines_of
from shared.imports.oneroster.report import Report
from shared.imports.oneroster.source import Source
from shared.imports.oneroster.users import (
    CONTACT,
    DROPPED,
    GUARDIAN,
    PARENT,
    STAFF,
    STUDENT,
    Users,
)
from shared.imports.oneroster.values import items

LINK_SHIFT = 32  # a link is one int: student << LINK_SHIFT | contact


@dataclass
class Written:
    """What the second reading leaves for the files after it."""

    people_lines: "array[int]" = field(default_factory=lambda: array("l"))  # per native line
    links: set[int] = field(default_factory=set)
    family_names: list[str] = field(default_factory=list)  # by user: of parents and guardians


def write_people(source: Source, users: Users, output: Output, notes: Report) -> Written:
    """people.csv, one row per user not dropped, in file order; `people_lines` holds the
    users.csv line of each line written after the header (a row spanning lines counts each)."""
    people = output.open(PEOPLE)
    written = Written(family_names=[""] * len(users.ids))
    order = source.positions.get("agentSourcedIds", -1)
    family_names: dict[str, str] = {}  # each family name held once, however many share it
    for line, cells in source.rows(quiet=True):
        sourced_id, _, given, family, identifier, email, sms, phone, agents, *_ = cells
        user = users.found.ids.get(sourced_id)
        if user is None or users.lines[user] != line:
            continue  # a row reported already: no sourcedId, or a repeated one
        bits = users.bits[user]
        if bits & DROPPED:
            continue
        student_number = identifier if bits & STUDENT else ""
        staff_number = identifier if bits & STAFF and not bits & STUDENT else ""
        row = (sourced_id, given, family, student_number, staff_number, phone, "", sms, email, "")
        people.write(row)
        written.people_lines.extend([line] * lines_of(row))
        if bits & (PARENT | GUARDIAN):
            written.family_names[user] = family_names.setdefault(family, family)
        for agent in items(agents):
            why = _link(users, user, agent, written.links)
            if why is not None:
                notes.add(source.name, line, "agentSourcedIds", f"{agent!r} {why}; skipped", order)
    return written


def _link(users: Users, user: int, agent: str, links: set[int]) -> str | None:
    """Adds the link between `user` and `agent`, or says why there is none. Links with a user
    marked tobedeleted are left out without a note: that user's links end anyway."""
    other = users.found.ids.get(agent)
    if other is None:
        return "names no user in the bundle"
    mine, theirs = users.bits[user], users.bits[other]
    if (mine | theirs) & DROPPED:
        return None
    if other == user:
        return "is this user"
    if mine & STUDENT and theirs & CONTACT:
        links.add(user << LINK_SHIFT | other)
    elif theirs & STUDENT and mine & CONTACT:
        links.add(other << LINK_SHIFT | user)
    elif not (mine | theirs) & STUDENT:
        return "and this user: neither is a student"
    elif mine & STUDENT:
        return "is not a parent, guardian or relative"
    else:
        return "is a student, but this user is not a parent, guardian or relative"
    return None
