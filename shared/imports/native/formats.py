"""The native CSV bundle (see README.md): which files, which columns, and of what kind each
cell is (`cells`)."""

from dataclasses import dataclass
from typing import cast

from sqlalchemy import Table

from shared.core.vocabulary import REASONS
from shared.imports.native.addresses import email, phone
from shared.imports.native.cells import (
    Kind,
    boolean,
    channel,
    flag,
    identifier,
    iso_date,
    reason_set,
    school_year,
    subject_type,
    text,
)
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


@dataclass(frozen=True)
class Field:
    column: str
    kind: Kind
    required: bool = False
    db: str | None = None  # the column it is stored in (None: not stored as is)
    ref: str | None = None  # the entity whose district identifier the cell holds
    # An address: a cell that fails its check is quarantined (imported as no address, keeping
    # a stored one, and reported) rather than stopping the import.
    quarantine: bool = False
    # A name: its control and bidi-override characters are removed and reported; the row is
    # kept (a name is shown on pages and in files, where such characters disguise text).
    cleaned: bool = False


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
        Field("name", text(200), required=True, db="name", cleaned=True),
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
        Field("name", text(200), required=True, db="name", cleaned=True),
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
        Field("firstName", text(100), required=True, db="first_name", cleaned=True),
        Field("lastName", text(100), required=True, db="last_name", cleaned=True),
        Field("studentNumber", text(64), db="student_number"),
        Field("staffNumber", text(64), db="staff_number"),
        Field("homePhone", phone, db="home_phone", quarantine=True),
        Field("workPhone", phone, db="work_phone", quarantine=True),
        Field("cellPhone", phone, db="cell_phone", quarantine=True),
        Field("email", email, db="email", quarantine=True),
        Field("secondaryEmail", email, db="secondary_email", quarantine=True),
    ),
    key=("personId",),
    table=_table(Person),
    defines="person",
)
HOUSEHOLDS = FileSpec(
    "households.csv",
    (
        Field("householdId", identifier, required=True, db="ext_id"),
        Field("name", text(200), required=True, db="name", cleaned=True),
        Field("phone", phone, db="phone", quarantine=True),
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
        Field("name", text(100), db="name", cleaned=True),
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
        Field("title", text(100), db="title", cleaned=True),
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
