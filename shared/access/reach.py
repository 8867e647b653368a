"""What a user may reach within the calls their role allows (README.md, "Who may do what").

A district admin and a viewer reach the whole district (a viewer only reads: web/access.py). A
school admin reaches their schools: batches whose scope lies within them (never census mode, never
the whole district), their own filters, and the people of their schools: students with an
enrollment at one of them, those students' contacts, and staff assigned there. Households follow
their members. Each check raises Forbidden with what was refused and why; the web records it.
A person or household out of reach raises OutOfReach instead: the same 404 as an id that does
not exist, so a school admin cannot probe another school's ids (the refusal is still recorded).
"""

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, exists, false, or_, select, true
from sqlalchemy.orm import Session

from shared.core.errors import Forbidden, OutOfReach
from shared.core.vocabulary import Role
from shared.models import (
    Batch,
    Calendar,
    DistrictAssignment,
    Enrollment,
    Filter,
    Household,
    HouseholdMember,
    Person,
    Relationship,
    School,
    User,
    user_schools,
)


@dataclass(frozen=True)
class Reach:
    """Who is acting, and the schools they are limited to (None: the whole district)."""

    user_id: int | None
    school_ids: frozenset[int] | None


def reach_of(session: Session, user: User | None) -> Reach:
    """A user's reach; without a user (the command line, the system) the whole district."""
    if user is None or user.role != Role.SCHOOL_ADMIN:
        return Reach(user.id if user else None, None)
    schools = session.scalars(
        select(user_schools.c.school_id).where(user_schools.c.user_id == user.id)
    )
    return Reach(user.id, frozenset(schools))


# --- batches ------------------------------------------------------------------------------------


def ensure_batch_request_allowed(
    session: Session,
    reach: Reach,
    *,
    mode: str,
    school_ext_id: str | None,
    calendar_ext_id: str | None,
    filter_owner_id: int | None = None,
    filter_id: int | None = None,
) -> None:
    """A school admin's batch names one of their schools, or a calendar of one."""
    if reach.school_ids is None:
        return
    if mode == "census":
        raise Forbidden("a school admin may not run Census/Staff batches")
    if filter_id is not None and filter_owner_id != reach.user_id:
        raise Forbidden(f"filter {filter_id} is not one of your filters")
    if calendar_ext_id is not None:
        school_id = session.scalar(
            select(Calendar.school_id).where(Calendar.ext_id == calendar_ext_id)
        )
        if school_id not in reach.school_ids:
            raise Forbidden(f"calendar {calendar_ext_id!r} is not at one of your schools")
    if school_ext_id is not None:
        school_id = session.scalar(select(School.id).where(School.ext_id == school_ext_id))
        if school_id not in reach.school_ids:
            raise Forbidden(f"school {school_ext_id!r} is not one of your schools")
    if calendar_ext_id is None and school_ext_id is None:
        raise Forbidden("a batch over the whole district needs a district admin; name your school")


def ensure_batch_allowed(session: Session, reach: Reach, batch: Batch) -> None:
    """Reading, undoing, cancelling or applying a batch: a school admin's lies in their schools."""
    if reach.school_ids is None:
        return
    found = session.scalar(select(Batch.id).where(Batch.id == batch.id, batch_reach(reach)))
    if found is None:
        raise Forbidden(f"batch {batch.id} is not within your schools")


def batch_reach(reach: Reach) -> ColumnElement[bool]:
    """The batches a reach covers, as a condition on `Batch`."""
    if reach.school_ids is None:
        return true()
    if not reach.school_ids:
        return false()
    schools = select(School.ext_id).where(School.id.in_(reach.school_ids))
    calendars = select(Calendar.ext_id).where(Calendar.school_id.in_(reach.school_ids))
    return (Batch.mode != "census") & or_(
        Batch.calendar_ext_id.in_(calendars),
        Batch.calendar_ext_id.is_(None) & Batch.school_ext_id.in_(schools),
    )


# --- filters ------------------------------------------------------------------------------------


def ensure_filter_allowed(reach: Reach, saved: Filter) -> None:
    """Reading, changing, deleting or previewing a filter: a school admin's own only."""
    if reach.school_ids is not None and saved.owner_id != reach.user_id:
        raise Forbidden(f"filter {saved.id} is not one of your filters")


def filter_reach(reach: Reach) -> ColumnElement[bool]:
    """A school admin's own filters; everyone else's are all of them."""
    if reach.school_ids is None:
        return true()
    return Filter.owner_id == reach.user_id


# --- people and households ----------------------------------------------------------------------


def ensure_person_id_allowed(session: Session, user: User | None, person_ext_id: str) -> None:
    """For the calls that name a person by the district's id: an unknown one is left to the
    service (404); a known one outside a school admin's schools is refused."""
    person = session.scalar(select(Person).where(Person.ext_id == person_ext_id))
    if person is not None:
        ensure_person_allowed(session, reach_of(session, user), person)


def ensure_household_id_allowed(session: Session, user: User | None, household_ext_id: str) -> None:
    household_id = session.scalar(select(Household.id).where(Household.ext_id == household_ext_id))
    if household_id is not None:
        ensure_household_allowed(session, reach_of(session, user), household_id, household_ext_id)


def ensure_person_allowed(session: Session, reach: Reach, person: Person) -> None:
    if reach.school_ids is None:
        return
    if not session.scalar(person_reach(reach, Person.id == person.id)):
        raise OutOfReach(
            f"no person {person.ext_id!r}", f"person {person.ext_id} is not in your schools"
        )


def ensure_household_allowed(
    session: Session, reach: Reach, household_id: int, household_ext_id: str
) -> None:
    if reach.school_ids is None:
        return
    members = select(HouseholdMember.person_id).where(HouseholdMember.household_id == household_id)
    if not session.scalar(person_reach(reach, Person.id.in_(members))):
        raise OutOfReach(
            f"no household {household_ext_id!r}",
            f"household {household_ext_id} is not in your schools",
        )


def person_reach(reach: Reach, which: ColumnElement[bool]) -> Select[Any]:
    """Whether some person matching `which` is in the reach's schools: as one EXISTS."""
    return exists().where(which, people_of_schools(reach)).select()


def people_of_schools(reach: Reach) -> ColumnElement[bool]:
    """A condition on `Person`: enrolled at one of the schools (at any time), a contact of such a
    student, or assigned there."""
    if reach.school_ids is None:
        return true()
    calendars = select(Calendar.id).where(Calendar.school_id.in_(reach.school_ids))
    students = select(Enrollment.person_id).where(Enrollment.calendar_id.in_(calendars))
    return or_(
        Person.id.in_(students),
        Person.id.in_(select(Relationship.contact_id).where(Relationship.student_id.in_(students))),
        Person.id.in_(
            select(DistrictAssignment.person_id).where(
                DistrictAssignment.school_id.in_(reach.school_ids)
            )
        ),
    )
