"""Who a batch updates (docs/batches.md, "Targets"), as SQL selects of person ids, judged as
of a date.

Each function returns a select of one column, `person_id`, without duplicates; the planner
materialises it into `batch_targets`.
"""

from datetime import date
from typing import Any

from sqlalchemy import Select, select

from shared.batches.request import Scope
from shared.core.vocabulary import Mode
from shared.filters.matching import active, census_matches, students_matching
from shared.models import Calendar, Relationship, School


def scope_calendar_ids(scope: Scope) -> Select[Any]:
    query = select(Calendar.id)
    if scope.calendar_id is not None:
        query = query.where(Calendar.ext_id == scope.calendar_id)
    if scope.school_year is not None:
        query = query.where(Calendar.school_year == scope.school_year)
    if scope.school_id is not None:
        query = query.join(School, School.id == Calendar.school_id).where(
            School.ext_id == scope.school_id
        )
    return query


def students_in_scope(
    scope: Scope, as_of: date, criteria: dict[str, Any] | None = None
) -> Select[Any]:
    """Students with a current enrollment in scope (and matching the student filter's
    criteria)."""
    return students_matching(scope_calendar_ids(scope), as_of, criteria)


def messenger_contacts_of(students: Select[Any], as_of: date) -> Select[Any]:
    return (
        select(Relationship.contact_id.label("person_id"))
        .where(Relationship.messenger.is_(True))
        .where(active(Relationship.start_date, Relationship.end_date, as_of))
        .where(Relationship.student_id.in_(students))
        .distinct()
    )


def target_ids(
    mode: str, scope: Scope | None, as_of: date, criteria: dict[str, Any] | None
) -> Select[Any]:
    if mode == Mode.CENSUS:
        return census_matches(criteria or {}, as_of)
    assert scope is not None, "student modes always have a scope"
    students = students_in_scope(scope, as_of, criteria)
    if mode == Mode.STUDENT:
        return students
    return messenger_contacts_of(students, as_of)
