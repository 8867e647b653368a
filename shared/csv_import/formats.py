"""The native CSV bundle (SPEC section 7): which files, which columns, and how each cell is read.

A cell parser takes the stripped, non-empty text of a cell and returns its value or raises
CellError with what is wrong; emptiness and `required` are handled by the reader.
"""

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any, cast

from sqlalchemy import Table

from shared.models import (
    Base,
    Calendar,
    DistrictAssignment,
    Enrollment,
    Household,
    HouseholdMember,
    Person,
    Relationship,
    School,
)
from shared.vocabulary import CHANNELS, REASONS, is_text_message_word


class CellError(ValueError):
    """A cell that cannot be read; the message says what is wrong with it."""


Parser = Callable[[str], Any]


@dataclass(frozen=True)
class Field:
    column: str
    parse: Parser
    required: bool = False
    db: str | None = None  # the column it is stored in (None: not stored as is)
    ref: str | None = None  # the entity whose district identifier the cell holds
    empty: Any = None  # the value of an empty cell


@dataclass(frozen=True)
class FileSpec:
    name: str
    fields: tuple[Field, ...]
    key: tuple[str, ...]  # the columns that identify a row: unique within the file
    table: Table | None = None
    defines: str | None = None  # the entity whose identifiers key[0] holds

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(field.column for field in self.fields)

    def db_key(self) -> tuple[str, ...]:
        return tuple(self.field(column).db or column for column in self.key)

    def db_values(self) -> tuple[str, ...]:
        key = set(self.key)
        return tuple(f.db for f in self.fields if f.db is not None and f.column not in key)

    def field(self, column: str) -> Field:
        return next(f for f in self.fields if f.column == column)


@dataclass(frozen=True)
class Text:
    """Any text up to a length (the reader checks it inline: most cells are text)."""

    max_length: int

    def __call__(self, cell: str) -> str:
        if len(cell) > self.max_length:
            raise CellError(f"longer than {self.max_length} characters")
        return cell


identifier = Text(64)

_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")  # ASCII digits only, unlike \d
_SCHOOL_YEAR = re.compile(r"([0-9]{4})-([0-9]{2})")
_EMAIL = re.compile(r"[^\s@]+@\S+")


@functools.lru_cache(maxsize=4096)  # a bundle repeats the same few hundred dates
def iso_date(cell: str) -> date:
    if _DATE.fullmatch(cell):
        try:
            return date.fromisoformat(cell)
        except ValueError:
            pass
    raise CellError(f"{cell!r} is not a date (YYYY-MM-DD)")


def boolean(cell: str) -> bool:
    if cell in ("true", "false"):
        return cell == "true"
    raise CellError(f"{cell!r} is not true or false")


def school_year(cell: str) -> str:
    match = _SCHOOL_YEAR.fullmatch(cell)
    if match is None or (int(match[1]) + 1) % 100 != int(match[2]):
        raise CellError(f"{cell!r} is not a school year like 2025-26")
    return cell


def email(cell: str) -> str:
    if _EMAIL.fullmatch(cell) is None:
        raise CellError(f"{cell!r} is not an email address")
    return Text(254)(cell)


def subject_type(cell: str) -> str:
    if cell not in ("person", "household"):
        raise CellError(f"{cell!r} is not person or household")
    return cell


def channel(cell: str) -> int:
    if cell in CHANNELS:
        return CHANNELS.index(cell)
    if is_text_message_word(cell):
        raise CellError(f"{cell!r}: text-message preferences cannot be imported")
    raise CellError(f"unknown channel {cell!r}")


def flag(cell: str) -> bool:
    if cell in ("0", "1"):
        return cell == "1"
    raise CellError(f"{cell!r} is not 0 or 1")


def reason_set(cell: str) -> frozenset[str]:
    """`|`-separated reasons, each known and named once."""
    seen: set[str] = set()
    for reason in cell.split("|"):
        if reason == "":
            raise CellError(f"an empty reason in {cell!r}")
        if reason not in REASONS:
            if is_text_message_word(reason):
                raise CellError(f"{reason!r}: text-message preferences cannot be imported")
            raise CellError(f"unknown reason {reason!r}")
        if reason in seen:
            raise CellError(f"{reason!r} appears twice")
        seen.add(reason)
    return frozenset(seen)


def _table(model: type[Base]) -> Table:
    return cast(Table, model.__table__)


def _period() -> tuple[Field, Field]:
    return Field("startDate", iso_date, db="start_date"), Field("endDate", iso_date, db="end_date")


SCHOOLS = FileSpec(
    "schools.csv",
    (
        Field("schoolId", identifier, required=True, db="ext_id"),
        Field("name", Text(200), required=True, db="name"),
    ),
    key=("schoolId",),
    table=_table(School),
    defines="school",
)
CALENDARS = FileSpec(
    "calendars.csv",
    (
        Field("calendarId", identifier, required=True, db="ext_id"),
        Field("schoolId", identifier, required=True, db="school_id", ref="school"),
        Field("name", Text(200), required=True, db="name"),
        Field("schoolYear", school_year, required=True, db="school_year"),
        *_period(),
    ),
    key=("calendarId",),
    table=_table(Calendar),
    defines="calendar",
)
PEOPLE = FileSpec(
    "people.csv",
    (
        Field("personId", identifier, required=True, db="ext_id"),
        Field("firstName", Text(100), required=True, db="first_name"),
        Field("lastName", Text(100), required=True, db="last_name"),
        Field("studentNumber", Text(64), db="student_number"),
        Field("staffNumber", Text(64), db="staff_number"),
        Field("homePhone", Text(32), db="home_phone"),
        Field("workPhone", Text(32), db="work_phone"),
        Field("cellPhone", Text(32), db="cell_phone"),
        Field("email", email, db="email"),
        Field("secondaryEmail", email, db="secondary_email"),
    ),
    key=("personId",),
    table=_table(Person),
    defines="person",
)
HOUSEHOLDS = FileSpec(
    "households.csv",
    (
        Field("householdId", identifier, required=True, db="ext_id"),
        Field("name", Text(200), required=True, db="name"),
        Field("phone", Text(32), db="phone"),
    ),
    key=("householdId",),
    table=_table(Household),
    defines="household",
)
HOUSEHOLD_MEMBERS = FileSpec(
    "householdMembers.csv",
    (
        Field("householdId", identifier, required=True, db="household_id", ref="household"),
        Field("personId", identifier, required=True, db="person_id", ref="person"),
        *_period(),
    ),
    key=("householdId", "personId", "startDate"),
    table=_table(HouseholdMember),
)
ENROLLMENTS = FileSpec(
    "enrollments.csv",
    (
        Field("personId", identifier, required=True, db="person_id", ref="person"),
        Field("calendarId", identifier, required=True, db="calendar_id", ref="calendar"),
        Field("grade", Text(16), db="grade"),
        *_period(),
    ),
    key=("personId", "calendarId", "startDate"),
    table=_table(Enrollment),
)
RELATIONSHIPS = FileSpec(
    "relationships.csv",
    (
        Field("studentId", identifier, required=True, db="student_id", ref="person"),
        Field("contactId", identifier, required=True, db="contact_id", ref="person"),
        Field("name", Text(100), db="name"),
        Field("guardian", boolean, db="guardian", empty=False),
        Field("messenger", boolean, db="messenger", empty=False),
        *_period(),
    ),
    key=("studentId", "contactId", "startDate"),
    table=_table(Relationship),
)
DISTRICT_ASSIGNMENTS = FileSpec(
    "districtAssignments.csv",
    (
        Field("personId", identifier, required=True, db="person_id", ref="person"),
        Field("schoolId", identifier, db="school_id", ref="school"),
        Field("title", Text(100), db="title"),
        *_period(),
    ),
    key=("personId", "schoolId", "title", "startDate"),
    table=_table(DistrictAssignment),
)
PREFERENCES = FileSpec(
    "preferences.csv",
    (
        Field("subjectType", subject_type, required=True),
        Field("subjectId", identifier, required=True),
        Field("channel", channel, required=True),
        Field("address", Text(254)),
        *(Field(reason, flag, required=True) for reason in REASONS),
        Field("guardianSet", reason_set, empty=frozenset()),
    ),
    key=("subjectType", "subjectId", "channel"),
)

# In the order they are read, reported and written: a file refers only to files before it.
SPECS = (
    SCHOOLS,
    CALENDARS,
    PEOPLE,
    HOUSEHOLDS,
    HOUSEHOLD_MEMBERS,
    ENROLLMENTS,
    RELATIONSHIPS,
    DISTRICT_ASSIGNMENTS,
    PREFERENCES,
)
ENTITY_TABLES: dict[str, Table] = {
    spec.defines: spec.table for spec in SPECS if spec.defines and spec.table is not None
}
