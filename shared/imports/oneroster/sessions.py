"""academicSessions.csv: each session of type `schoolYear` becomes a calendar at every school:
calendarId `<school sourcedId>-<session sourcedId>`, named by the session's title, with its
dates, and the school year that ends in the session's `schoolYear` (2026 -> 2025-26). Terms,
semesters and grading periods lead to their school year through `parentSourcedId`."""

from array import array
from dataclasses import dataclass, field
from typing import Final

from shared.imports.native.formats import CALENDARS
from shared.imports.native.reading import cell_problem
from shared.imports.oneroster.orgs import Orgs
from shared.imports.oneroster.output import Output
from shared.imports.oneroster.source import Found, Source, absent
from shared.imports.oneroster.values import (
    DELETED,
    SESSION_TYPES,
    Dates,
    date_problem,
    enum,
    school_year,
    status,
    status_problem,
)

NAME: Final = "academicSessions.csv"
COLUMNS: Final = (
    "sourcedId",
    "status",
    "title",
    "type",
    "startDate",
    "endDate",
    "parentSourcedId",
    "schoolYear",
)


@dataclass(frozen=True)
class Year:
    """A schoolYear session: what its calendars say."""

    session: int
    title: str
    label: str
    start: str
    end: str
    active: bool


@dataclass
class Sessions:
    found: Found
    ids: list[str] = field(default_factory=list)
    lines: "array[int]" = field(default_factory=lambda: array("l"))
    parents: list[str] = field(default_factory=list)
    years: list[Year] = field(default_factory=list)
    year_at: dict[int, int] = field(default_factory=dict)  # session -> its place in years
    resolved: dict[int, int | str] = field(default_factory=dict)

    def add_year(self, year: Year) -> None:
        self.year_at[year.session] = len(self.years)
        self.years.append(year)

    def year_of(self, term: int) -> int | str:
        """The place in `years` of the school year above session `term` (itself, if it is
        one), or what stops the way up: a parent not in the file, a cycle, or the top."""
        known = self.resolved.get(term)
        if known is None:
            known = self.resolved[term] = self._climb(term)
        return known

    def _climb(self, term: int) -> int | str:
        seen: set[int] = set()
        current = term
        while (place := self.year_at.get(current)) is None:
            if current in seen:
                return f"the parents of {self.ids[term]!r} form a cycle"
            seen.add(current)
            parent = self.parents[current]
            if not parent:
                return f"{self.ids[term]!r} is in no schoolYear session"
            above = self.found.ids.get(parent)
            if above is None:
                return f"{self.ids[term]!r} leads to {parent!r}, which is not in {NAME}"
            current = above
        return place


def read_sessions(source: Source | None) -> Sessions:
    if source is None:
        return Sessions(absent(NAME))
    ids: dict[str, int] = {}
    sessions = Sessions(Found(NAME, ids, True, False))
    dates = Dates()
    for line, cells in source.rows():
        sourced_id, state_cell, title, type_cell, start, end, parent, year_cell = cells
        if not sourced_id:
            source.problem(line, "sourcedId", "required, but empty")
            continue
        if sourced_id in ids:
            first = sessions.lines[ids[sourced_id]]
            source.problem(line, "sourcedId", f"{sourced_id!r} is also on line {first}")
            continue
        state = status(state_cell)
        if state is None:
            source.problem(line, "status", status_problem(state_cell))
        kind = enum(type_cell, SESSION_TYPES)
        if kind is None and (type_cell or state != DELETED):
            source.problem(line, "type", _type_problem(type_cell))
        index = len(sessions.ids)
        ids[sourced_id] = index
        sessions.ids.append(sourced_id)
        sessions.lines.append(line)
        active = state != DELETED
        sessions.parents.append(parent if active else "")
        if not active:  # a session to be deleted is only an id: a delta may give no more
            if kind == "schoolYear":
                sessions.add_year(Year(index, title, "", "", "", active=False))
            continue
        period = []
        for column, cell in (("startDate", start), ("endDate", end)):
            value = dates.read(cell)
            if value is None:
                source.problem(line, column, date_problem(cell))
            period.append(value or "")
        if kind == "schoolYear":
            if (problem := cell_problem(CALENDARS.field("name"), title)) is not None:
                source.problem(line, "title", problem)
            label = school_year(year_cell)
            if label is None:
                source.problem(line, "schoolYear", _year_problem(year_cell))
            sessions.add_year(Year(index, title, label or "", period[0], period[1], active=True))
    if source.complete:
        sessions.found = Found(NAME, ids, True, True)
        for index, parent in enumerate(sessions.parents):
            if parent and parent not in ids:
                source.problem(
                    sessions.lines[index], "parentSourcedId", f"{parent!r} is not in {NAME}"
                )
    return sessions


def write_calendars(output: Output, orgs: Orgs, sessions: Sessions, source: Source) -> None:
    """A calendar for each school written and each school year not to be deleted; a calendar
    id too long is reported once, at its session."""
    calendars = output.open(CALENDARS)
    too_long: set[int] = set()
    for school, school_id in enumerate(orgs.ids):
        if not orgs.written[school]:
            continue
        for year in sessions.years:
            if not year.active:
                continue
            calendar_id = f"{school_id}-{sessions.ids[year.session]}"
            problem = cell_problem(CALENDARS.field("calendarId"), calendar_id)
            if problem is not None and year.session not in too_long:
                too_long.add(year.session)
                line = sessions.lines[year.session]
                source.problem(line, "sourcedId", f"the calendar id {calendar_id!r} is {problem}")
            calendars.write((calendar_id, school_id, year.title, year.label, year.start, year.end))


def calendar_id(orgs: Orgs, sessions: Sessions, code: int) -> str:
    """The calendar of a calendar code: school index * number of school years + year place."""
    school, place = divmod(code, len(sessions.years))
    return f"{orgs.ids[school]}-{sessions.ids[sessions.years[place].session]}"


def _type_problem(cell: str) -> str:
    if not cell:
        return "required, but empty"
    return f"{cell!r} is not a session type ({', '.join(SESSION_TYPES.values())})"


def _year_problem(cell: str) -> str:
    if not cell:
        return "required, but empty"
    return f"{cell!r} is not a year (YYYY)"
