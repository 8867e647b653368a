"""What a saved filter matches, as of a date: how many people, and the first of them by name.

A student filter is judged over every calendar: the students with an enrollment not ended as of
the date that meets its criteria (a batch narrows them further to its scope). A census filter
matches as a Census/Staff batch would. A school admin sees only the people of their schools.
"""

from datetime import date
from typing import Any, Final

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shared.access.reach import people_of_schools, reach_of
from shared.core.contract import Body, IsoDate, View
from shared.core.vocabulary import FilterKind
from shared.filters.matching import census_matches, students_matching
from shared.models import Calendar, Filter, Person, User

SAMPLE_SIZE: Final = 10


class FilterPreviewRequest(Body):
    """As of when to judge the filter (default: today in the district's time zone)."""

    as_of: IsoDate | None = None


class MatchedPerson(View):
    person_id: str
    first_name: str
    last_name: str


class FilterPreview(View):
    as_of: date
    count: int
    sample: list[MatchedPerson]


def preview_filter(
    session: Session, saved: Filter, as_of: date, *, user: User | None = None
) -> FilterPreview:
    return preview_criteria(session, FilterKind(saved.kind), saved.criteria, as_of, user=user)


def preview_criteria(
    session: Session,
    kind: FilterKind,
    criteria: dict[str, Any],
    as_of: date,
    *,
    user: User | None = None,
) -> FilterPreview:
    """What criteria of `kind` (as stored with a filter) match as of the date, saved or not:
    the filter designer shows it as its criteria change."""
    if kind == FilterKind.CENSUS:
        matched = census_matches(criteria, as_of)
    else:
        matched = students_matching(select(Calendar.id), as_of, criteria)
    people = (
        select(Person.ext_id, Person.first_name, Person.last_name)
        .where(Person.id.in_(matched.subquery().select()))
        .where(people_of_schools(reach_of(session, user)))
    )
    count = session.scalar(select(func.count()).select_from(people.subquery())) or 0
    first = session.execute(
        people.order_by(Person.last_name, Person.first_name, Person.ext_id).limit(SAMPLE_SIZE)
    )
    return FilterPreview(
        as_of=as_of,
        count=count,
        sample=[
            MatchedPerson(person_id=ext_id, first_name=first_name, last_name=last_name)
            for ext_id, first_name, last_name in first
        ],
    )
