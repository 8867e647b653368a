"""Finding a person for the person page: by the district's id, or by a piece of the name."""

from dataclasses import dataclass

from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import Session

from shared.access.reach import people_of_schools, reach_of
from shared.models import Person, User


@dataclass(frozen=True)
class PersonHit:
    person_id: str
    first_name: str
    last_name: str


def find_people(
    session: Session, query: str, limit: int, *, user: User | None = None
) -> list[PersonHit]:
    """People whose id is `query` exactly (listed first), or whose "first last" name contains
    it, ignoring case (SQLite folds ASCII letters only); at most `limit`, by name. A school
    admin finds only the people of their schools."""
    query = query.strip()
    if not query:
        return []
    full_name = func.lower(Person.first_name + " " + Person.last_name)
    exact = Person.ext_id == query
    rows = session.execute(
        select(Person.ext_id, Person.first_name, Person.last_name)
        .where(or_(exact, full_name.contains(query.lower(), autoescape=True)))
        .where(people_of_schools(reach_of(session, user)))
        .order_by(case((exact, 0), else_=1), Person.last_name, Person.first_name, Person.ext_id)
        .limit(limit)
    )
    return [PersonHit(*row) for row in rows]
