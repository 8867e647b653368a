"""What a filter's criteria match, as SQL selects of person ids judged as of a date (each one
column, `person_id`, without duplicates); batches use them to find their targets.

Active (a relationship, membership or assignment): its start is empty or on or before the date,
and its end is empty or on or after it. An enrollment is current while it has not ended, so a
batch run before the first day of school finds the students enrolled for the year.
"""

from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, exists, or_, select
from sqlalchemy.orm import InstrumentedAttribute

from shared.models import Calendar, DistrictAssignment, Enrollment, Person, Relationship, School

Column = ColumnElement[Any] | InstrumentedAttribute[Any]


def active(start: Column, end: Column, as_of: date) -> ColumnElement[bool]:
    return and_(or_(start.is_(None), start <= as_of), or_(end.is_(None), end >= as_of))


def not_ended(end: Column, as_of: date) -> ColumnElement[bool]:
    return or_(end.is_(None), end >= as_of)


def students_matching(
    calendar_ids: Select[Any], as_of: date, criteria: dict[str, Any] | None = None
) -> Select[Any]:
    """Students with a current enrollment (one not ended as of the date) in one of the
    calendars; with a student filter's criteria, one such enrollment must satisfy its grades and
    schools together."""
    criteria = criteria or {}
    query = (
        select(Enrollment.person_id.label("person_id"))
        .where(Enrollment.calendar_id.in_(calendar_ids))
        .where(not_ended(Enrollment.end_date, as_of))
        .distinct()
    )
    if "grades" in criteria:
        query = query.where(Enrollment.grade.in_(criteria["grades"]))
    if "schoolIds" in criteria:
        query = query.where(
            Enrollment.calendar_id.in_(
                select(Calendar.id)
                .join(School, School.id == Calendar.school_id)
                .where(School.ext_id.in_(criteria["schoolIds"]))
            )
        )
    if "personIds" in criteria:
        query = query.where(
            Enrollment.person_id.in_(
                select(Person.id).where(Person.ext_id.in_(criteria["personIds"]))
            )
        )
    return query


def has_active_assignment(person_id: Column, as_of: date) -> ColumnElement[bool]:
    return exists().where(
        DistrictAssignment.person_id == person_id,
        active(DistrictAssignment.start_date, DistrictAssignment.end_date, as_of),
    )


def census_matches(criteria: dict[str, Any], as_of: date) -> Select[Any]:
    query = select(Person.id.label("person_id"))
    if "personIds" in criteria:
        query = query.where(Person.ext_id.in_(criteria["personIds"]))
    if "staff" in criteria:
        staff = has_active_assignment(Person.id, as_of)
        query = query.where(staff if criteria["staff"] else ~staff)
    if "assignmentSchoolIds" in criteria:
        query = query.where(
            exists().where(
                DistrictAssignment.person_id == Person.id,
                active(DistrictAssignment.start_date, DistrictAssignment.end_date, as_of),
                DistrictAssignment.school_id.in_(
                    select(School.id).where(School.ext_id.in_(criteria["assignmentSchoolIds"]))
                ),
            )
        )
    if "students" in criteria:
        student = is_current_student(Person.id, as_of)
        query = query.where(student if criteria["students"] else ~student)
    if "messengerContacts" in criteria:
        contact = is_messenger_contact(Person.id, as_of)
        query = query.where(contact if criteria["messengerContacts"] else ~contact)
    return query


def is_current_student(person_id: Column, as_of: date) -> ColumnElement[bool]:
    """An enrollment not ended as of the date, in a calendar whose dates contain it."""
    return exists().where(
        Enrollment.person_id == person_id,
        not_ended(Enrollment.end_date, as_of),
        Enrollment.calendar_id.in_(
            select(Calendar.id).where(active(Calendar.start_date, Calendar.end_date, as_of))
        ),
    )


def is_messenger_contact(person_id: Column, as_of: date) -> ColumnElement[bool]:
    """The contact of a relationship with the messenger flag, active as of the date."""
    return exists().where(
        Relationship.contact_id == person_id,
        Relationship.messenger.is_(True),
        active(Relationship.start_date, Relationship.end_date, as_of),
    )
