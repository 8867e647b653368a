"""orgs.csv: organisations. An org of type `school` becomes a native school (schoolId the
sourcedId, name the name); the others (district, local, state, national, department, or an
`ext:` type) are orgs a role may name, which makes a district-level assignment."""

from array import array
from dataclasses import dataclass
from typing import Final

from shared.imports.native.formats import SCHOOLS
from shared.imports.native.reading import cell_problem
from shared.imports.oneroster.output import Output
from shared.imports.oneroster.source import Found, Source, absent
from shared.imports.oneroster.values import DELETED, ORG_TYPES, enum, status, status_problem

NAME: Final = "orgs.csv"
COLUMNS: Final = ("sourcedId", "status", "name", "type")


@dataclass(frozen=True)
class Orgs:
    found: Found
    ids: list[str]  # by index
    school: bytearray  # 1 for an org of type school
    written: bytearray  # 1 for a school written to schools.csv (not one to be deleted)


def read_orgs(source: Source | None, output: Output) -> Orgs:
    """The orgs, writing schools.csv on the way; nothing is written without orgs.csv."""
    if source is None:
        return Orgs(absent(NAME), [], bytearray(), bytearray())
    ids: dict[str, int] = {}
    names: list[str] = []
    lines = array("l")
    school = bytearray()
    written = bytearray()
    schools = output.open(SCHOOLS)
    for line, (sourced_id, state_cell, name, type_cell) in source.rows():
        if not sourced_id:
            source.problem(line, "sourcedId", "required, but empty")
            continue
        if sourced_id in ids:
            first = lines[ids[sourced_id]]
            source.problem(line, "sourcedId", f"{sourced_id!r} is also on line {first}")
            continue
        state = status(state_cell)
        if state is None:
            source.problem(line, "status", status_problem(state_cell))
        kind = enum(type_cell, ORG_TYPES)
        if kind is None and (type_cell or state != DELETED):
            source.problem(line, "type", _type_problem(type_cell))
        ids[sourced_id] = len(names)
        names.append(sourced_id)
        lines.append(line)
        is_school = kind == "school"
        school.append(is_school)
        write = is_school and state != DELETED
        written.append(write)
        if write:  # a school to be deleted is only an id: a delta may give no more
            for column, fld, cell in (
                ("sourcedId", SCHOOLS.field("schoolId"), sourced_id),
                ("name", SCHOOLS.field("name"), name),
            ):
                if (problem := cell_problem(fld, cell)) is not None:
                    source.problem(line, column, problem)
            schools.write((sourced_id, name))
    return Orgs(Found(NAME, ids, True, source.complete), names, school, written)


def _type_problem(cell: str) -> str:
    if not cell:
        return "required, but empty"
    return f"{cell!r} is not an org type ({', '.join(ORG_TYPES.values())})"


def find_school(orgs: Orgs, source: Source, line: int, column: str, value: str) -> int | None:
    """The index of the school `value` names, or None, reporting why at the cell."""
    if not value:
        source.problem(line, column, "required, but empty")
        return None
    org = orgs.found.find(source, line, column, value)
    if org is not None and not orgs.school[org]:
        source.problem(line, column, f"{value!r} is not a school")
        return None
    return org
