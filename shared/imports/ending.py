"""Ending what a OneRoster bundle no longer holds (docs/oneroster.md, "Bulk and delta").

A bulk file gives the full state of what it covers: a link row (relationship, household
membership, district assignment, enrollment) in the database that the bundle's bulk file no
longer gives ends on the import's date, and so do all the links of a person that a bulk
users.csv no longer holds (the person record stays). A delta file's `tobedeleted` rows end the
same way, one by one (a user's links, a student's enrollment in a calendar, a staff role's
assignment). Nothing is deleted, and a row that returns in a later file is opened again
by the import's upsert (its end date becomes the file's again).

Ending sets the end date of a link still active on that date (no end date, or a later one); so
importing the same files again, the same day or later, ends nothing more. It runs inside the
import, after the writes, while the staging tables hold what the bundle gave.
"""

from collections.abc import Collection, Iterable
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, or_, select, update
from sqlalchemy.orm import Session

from shared.core.db import rowcount
from shared.imports.native.formats import (
    DISTRICT_ASSIGNMENTS,
    ENROLLMENTS,
    ENTITY_TABLES,
    HOUSEHOLD_MEMBERS,
    PEOPLE,
    RELATIONSHIPS,
    FileSpec,
)
from shared.imports.native.queries import chunked
from shared.imports.native.staging import staging
from shared.imports.native.writing import same_key, staged_rows
from shared.models import Calendar, School

LINK_FILES: tuple[FileSpec, ...] = (
    HOUSEHOLD_MEMBERS,
    ENROLLMENTS,
    RELATIONSHIPS,
    DISTRICT_ASSIGNMENTS,
)
PERSONS = ENTITY_TABLES["person"]


def end_links(
    session: Session,
    *,
    bulk: Collection[str],
    ended_people: Iterable[str],
    ended_enrollments: Iterable[tuple[str, str]],
    ended_assignments: Iterable[tuple[str, str, str]] = (),
    today: date,
) -> dict[str, int]:
    """End what the bundle no longer holds; returns how many rows ended, per native file."""
    ended = {spec.name: 0 for spec in LINK_FILES}
    for spec in LINK_FILES:
        if spec.name in bulk:
            ended[spec.name] += _end_absent(session, spec, today)
    if PEOPLE.name in bulk:
        staged = staging(PEOPLE)
        gone = select(PERSONS.c.id).where(~exists().where(staged.c.personId == PERSONS.c.ext_id))
        for spec in LINK_FILES:
            ended[spec.name] += _end_of_people(session, spec, gone, today)
    for ext_ids in chunked(ended_people):
        people = select(PERSONS.c.id).where(PERSONS.c.ext_id.in_(ext_ids))
        for spec in LINK_FILES:
            ended[spec.name] += _end_of_people(session, spec, people, today)
    for pairs in chunked(ended_enrollments, 100):
        ended[ENROLLMENTS.name] += _end_enrollments(session, pairs, today)
    for triples in chunked(ended_assignments, 100):
        ended[DISTRICT_ASSIGNMENTS.name] += _end_assignments(session, triples, today)
    return ended


def _active(table: Any, today: date) -> ColumnElement[bool]:
    return or_(table.c.end_date.is_(None), table.c.end_date > today)


def _end_absent(session: Session, spec: FileSpec, today: date) -> int:
    """The rows whose natural key is in none of the staged rows of the file."""
    assert spec.table is not None
    table = spec.table
    source = staged_rows(spec)
    return rowcount(
        session,
        update(table)
        .where(_active(table, today), ~exists().where(same_key(spec, table, source)))
        .values(end_date=today),
    )


def _end_of_people(session: Session, spec: FileSpec, people: Any, today: date) -> int:
    """Every link of the people: as a student or a contact, a member or a staff member."""
    assert spec.table is not None
    table = spec.table
    columns = ("student_id", "contact_id") if spec is RELATIONSHIPS else ("person_id",)
    return rowcount(
        session,
        update(table)
        .where(_active(table, today), or_(*(table.c[c].in_(people) for c in columns)))
        .values(end_date=today),
    )


def _end_enrollments(session: Session, pairs: list[tuple[str, str]], today: date) -> int:
    assert ENROLLMENTS.table is not None
    table = ENROLLMENTS.table
    calendars = Calendar.__table__
    wanted = [
        (
            select(PERSONS.c.id).where(PERSONS.c.ext_id == person).scalar_subquery(),
            select(calendars.c.id).where(calendars.c.ext_id == calendar).scalar_subquery(),
        )
        for person, calendar in pairs
    ]
    return rowcount(
        session,
        update(table)
        .where(
            _active(table, today),
            or_(*((table.c.person_id == p) & (table.c.calendar_id == c) for p, c in wanted)),
        )
        .values(end_date=today),
    )


def _end_assignments(session: Session, triples: list[tuple[str, str, str]], today: date) -> int:
    """The active assignments of each (person, school or "" for none, title), whatever their
    start date."""
    assert DISTRICT_ASSIGNMENTS.table is not None
    table = DISTRICT_ASSIGNMENTS.table
    schools = School.__table__
    wanted = []
    for person, school, title in triples:
        person_id = select(PERSONS.c.id).where(PERSONS.c.ext_id == person).scalar_subquery()
        at_school = (
            table.c.school_id.is_(None)
            if not school
            else table.c.school_id
            == select(schools.c.id).where(schools.c.ext_id == school).scalar_subquery()
        )
        wanted.append(and_(table.c.person_id == person_id, at_school, table.c.title == title))
    return rowcount(
        session,
        update(table).where(_active(table, today), or_(*wanted)).values(end_date=today),
    )
