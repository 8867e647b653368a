"""classes.csv: only to tell each class's calendar, for its student enrollments: the class's
school (schoolSourcedId) and the school year above its first term (termSourcedIds). Titles,
courses, grades, subjects and periods are not used."""

from array import array
from dataclasses import dataclass
from typing import Final

from shared.imports.oneroster.orgs import Orgs, find_school
from shared.imports.oneroster.sessions import Sessions
from shared.imports.oneroster.source import Found, Source, absent
from shared.imports.oneroster.values import items, status, status_problem

NAME: Final = "classes.csv"
COLUMNS: Final = ("sourcedId", "status", "schoolSourcedId", "termSourcedIds")


@dataclass(frozen=True)
class Classes:
    found: Found
    # Each class's calendar code (sessions.calendar_id), -1 for a class whose school or school
    # year is in doubt: that problem is reported at the class, not at each of its enrollments.
    calendars: "array[int]"


def read_classes(source: Source | None, orgs: Orgs, sessions: Sessions) -> Classes:
    """A class marked tobedeleted is read like any other: only its enrollments say who left."""
    if source is None:
        return Classes(absent(NAME), array("l"))
    ids: dict[str, int] = {}
    lines = array("l")
    calendars = array("l")
    years = len(sessions.years)
    for line, (sourced_id, state_cell, school_id, terms_cell) in source.rows():
        if not sourced_id:
            source.problem(line, "sourcedId", "required, but empty")
            continue
        if sourced_id in ids:
            first = lines[ids[sourced_id]]
            source.problem(line, "sourcedId", f"{sourced_id!r} is also on line {first}")
            continue
        if status(state_cell) is None:
            source.problem(line, "status", status_problem(state_cell))
        school = find_school(orgs, source, line, "schoolSourcedId", school_id)
        place = _school_year(source, line, items(terms_cell), sessions)
        ids[sourced_id] = len(lines)
        lines.append(line)
        calendars.append(-1 if school is None or place is None else school * years + place)
    return Classes(Found(NAME, ids, True, source.complete), calendars)


def _school_year(source: Source, line: int, terms: list[str], sessions: Sessions) -> int | None:
    if not terms:
        source.problem(line, "termSourcedIds", "required, but empty")
        return None
    term = sessions.found.find(source, line, "termSourcedIds", terms[0])
    if term is None:
        return None
    place = sessions.year_of(term)
    if isinstance(place, str):
        source.problem(line, "termSourcedIds", place)
        return None
    return place
