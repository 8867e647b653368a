"""relationships.csv, households.csv and householdMembers.csv, from the links people.py found.

A parent or a guardian is a guardian with messenger access (name `Parent` or `Guardian`); a
relative is neither (`Relative`). A user with several of these roles is named by the first of
parent, guardian, relative.

Students with the same set of guardians (parents and guardians; relatives do not count) form
one household with them. Its id is `hh-` and the first 20 hex digits of the SHA-1 of the
guardians' sourcedIds, sorted and joined by newlines (UTF-8), so that the same guardians give
the same household in every import; its name is the guardians' distinct family names, in the
order of their sorted sourcedIds, joined by ` / `, then ` household`. It has no phone. Its
members are its students and its guardians, without dates.
"""

from hashlib import sha1

from shared.imports.native.formats import HOUSEHOLD_MEMBERS, HOUSEHOLDS, RELATIONSHIPS
from shared.imports.native.reading import cell_problem
from shared.imports.oneroster.output import Output
from shared.imports.oneroster.people import LINK_SHIFT, Written
from shared.imports.oneroster.source import Source
from shared.imports.oneroster.users import GUARDIAN, PARENT, Users

_CONTACT = (1 << LINK_SHIFT) - 1


def write_households(source: Source, users: Users, written: Written, output: Output) -> None:
    """The links in student order, each student's guardians joining it to a household."""
    relationships = output.open(RELATIONSHIPS)
    households = _Households(source, users, written, output)
    student, guardians = -1, list[int]()
    for link in sorted(written.links):
        if link >> LINK_SHIFT != student:
            households.join(student, guardians)
            student, guardians = link >> LINK_SHIFT, []
        contact = link & _CONTACT
        bits = users.bits[contact]
        name = "Parent" if bits & PARENT else "Guardian" if bits & GUARDIAN else "Relative"
        guardian = "true" if bits & (PARENT | GUARDIAN) else "false"
        relationships.write(
            (users.ids[student], users.ids[contact], name, guardian, guardian, "", "")
        )
        if bits & (PARENT | GUARDIAN):
            guardians.append(contact)
    households.join(student, guardians)


class _Households:
    """Writes a household, with its guardians as members, when its first student joins, and
    each student as it joins: only the ids of the households met are held (as ints)."""

    def __init__(self, source: Source, users: Users, written: Written, output: Output) -> None:
        self._source = source
        self._users = users
        self._family_names = written.family_names
        self._households = output.open(HOUSEHOLDS)
        self._members = output.open(HOUSEHOLD_MEMBERS)
        self._met: set[int] = set()

    def join(self, student: int, guardians: list[int]) -> None:
        if not guardians:
            return
        ids = self._users.ids
        key = sorted(guardians, key=ids.__getitem__)
        digest = sha1("\n".join(ids[guardian] for guardian in key).encode()).hexdigest()[:20]
        household_id = "hh-" + digest
        if int(digest, 16) not in self._met:
            self._met.add(int(digest, 16))
            families = dict.fromkeys(self._family_names[guardian] for guardian in key)
            name = " / ".join(families) + " household"
            if (problem := cell_problem(HOUSEHOLDS.field("name"), name)) is not None:
                line = self._users.lines[key[0]]
                message = f"the household name made from it is {problem}"
                self._source.problem(line, "familyName", message)
            self._households.write((household_id, name, ""))
            for guardian in key:
                self._members.write((household_id, ids[guardian], "", ""))
        self._members.write((household_id, ids[student], "", ""))
