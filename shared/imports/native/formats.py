"""The native CSV bundle (SPEC section 7): which files, which columns, and how each cell is read.

A cell is kept as the text of the file (stripped; empty for no value), typed by its staging
column (shared.imports.native.staging) and by the SQL that writes it: reading a cell only checks it.
A Kind says how: `check` takes a stripped, non-empty cell and raises CellError saying what is
wrong with it; the fast path (shared.imports.native.plain_lines) tests whole rows at once with
`max_length` and `accepts` instead. Those are only a filter: a cell they refuse is checked by
`check`, which decides.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from functools import partial
from typing import Any, cast

from sqlalchemy import Date, Integer, String, Table
from sqlalchemy.types import TypeEngine

from shared.core.vocabulary import CHANNELS, REASONS, is_text_message_word
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


class CellError(ValueError):
    """A cell that cannot be read; the message says what is wrong with it."""


@dataclass(frozen=True)
class Kind:
    check: Callable[[str], None]
    max_length: int | None = None  # fast path: a longer cell is checked by `check`
    accepts: Callable[[str], object] | None = None  # fast path: true only of cells that pass
    staged: type[TypeEngine[Any]] = String  # how the staging table holds the cell


class Remembered:
    """A check that remembers the cells it passed, for the fast path to look up: a bundle
    repeats the same few hundred dates. The empty cell counts as passed (an optional cell)."""

    LIMIT = 100_000

    def __init__(self, check: Callable[[str], None]) -> None:
        self._check = check
        self.known = {""}

    def __call__(self, cell: str) -> None:
        self._check(cell)
        if len(self.known) < self.LIMIT:
            self.known.add(cell)

    def kind(self, staged: type[TypeEngine[Any]] = String) -> Kind:
        return Kind(self, accepts=self.known.__contains__, staged=staged)


def _at_most(max_length: int, cell: str) -> None:
    if len(cell) > max_length:
        raise CellError(f"longer than {max_length} characters")


def text(max_length: int) -> Kind:
    return Kind(partial(_at_most, max_length), max_length=max_length)


def one_of(words: frozenset[str], check: Callable[[str], None]) -> Kind:
    return Kind(check, accepts=words.__contains__)


_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")  # ASCII digits only, unlike \d
_SCHOOL_YEAR = re.compile(r"([0-9]{4})-([0-9]{2})")
_EMAIL = re.compile(r"[^\s@]+@\S+")


def _iso_date(cell: str) -> None:
    if _DATE.fullmatch(cell):
        try:
            date.fromisoformat(cell)
            return
        except ValueError:
            pass
    raise CellError(f"{cell!r} is not a date (YYYY-MM-DD)")


def _boolean(cell: str) -> None:
    if cell not in ("true", "false"):
        raise CellError(f"{cell!r} is not true or false")


def _school_year(cell: str) -> None:
    match = _SCHOOL_YEAR.fullmatch(cell)
    if match is None or (int(match[1]) + 1) % 100 != int(match[2]):
        raise CellError(f"{cell!r} is not a school year like 2025-26")


def _email(cell: str) -> None:
    if _EMAIL.fullmatch(cell) is None:
        raise CellError(f"{cell!r} is not an email address")
    _at_most(254, cell)


def _subject_type(cell: str) -> None:
    if cell not in ("person", "household"):
        raise CellError(f"{cell!r} is not person or household")


def _channel(cell: str) -> None:
    if cell in CHANNELS:
        return
    if is_text_message_word(cell):
        raise CellError(f"{cell!r}: text-message preferences cannot be imported")
    raise CellError(f"unknown channel {cell!r}")


def _flag(cell: str) -> None:
    if cell not in ("0", "1"):
        raise CellError(f"{cell!r} is not 0 or 1")


def _reason_set(cell: str) -> None:
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


identifier = text(64)
iso_date = Remembered(_iso_date).kind(Date)
boolean = one_of(frozenset(("", "true", "false")), _boolean)
school_year = Remembered(_school_year).kind()
email = Kind(_email, max_length=254, accepts=re.compile(r"(?:[^\s@]+@\S+)?").fullmatch)
subject_type = one_of(frozenset(("person", "household")), _subject_type)
channel = one_of(frozenset(CHANNELS), _channel)
flag = Kind(_flag, accepts=frozenset(("0", "1")).__contains__, staged=Integer)
reason_set = Remembered(_reason_set).kind()


@dataclass(frozen=True)
class Field:
    column: str
    kind: Kind
    required: bool = False
    db: str | None = None  # the column it is stored in (None: not stored as is)
    ref: str | None = None  # the entity whose district identifier the cell holds


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

    def field(self, column: str) -> Field:
        return next(f for f in self.fields if f.column == column)


def _table(model: type[Base]) -> Table:
    return cast(Table, model.__table__)


def _period() -> tuple[Field, Field]:
    return Field("startDate", iso_date, db="start_date"), Field("endDate", iso_date, db="end_date")


SCHOOLS = FileSpec(
    "schools.csv",
    (
        Field("schoolId", identifier, required=True, db="ext_id"),
        Field("name", text(200), required=True, db="name"),
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
        Field("name", text(200), required=True, db="name"),
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
        Field("firstName", text(100), required=True, db="first_name"),
        Field("lastName", text(100), required=True, db="last_name"),
        Field("studentNumber", text(64), db="student_number"),
        Field("staffNumber", text(64), db="staff_number"),
        Field("homePhone", text(32), db="home_phone"),
        Field("workPhone", text(32), db="work_phone"),
        Field("cellPhone", text(32), db="cell_phone"),
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
        Field("name", text(200), required=True, db="name"),
        Field("phone", text(32), db="phone"),
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
        Field("grade", text(16), db="grade"),
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
        Field("name", text(100), db="name"),
        Field("guardian", boolean, db="guardian"),  # empty: false
        Field("messenger", boolean, db="messenger"),
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
        Field("title", text(100), db="title"),
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
        Field("address", text(254)),
        *(Field(reason, flag, required=True) for reason in REASONS),
        Field("guardianSet", reason_set),
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
