"""Who a person is to the district, as the person page shows it: their roles as of a date, their
enrollments and staff assignments with school names, the students they are a contact of (or
their own contacts, for a student), and the other members of their households.

A role holds as of the date by the rules batches use: a student has an enrollment not ended
there in a calendar whose dates contain it; staff an active district assignment; a messenger
contact an active relationship with the messenger flag. Links are listed whatever their dates,
each with them, so that an ended one can be seen as ended.
"""

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from shared.filters.matching import has_active_assignment, is_current_student, is_messenger_contact
from shared.models import (
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
class Link:
    """Another person (or a school) the person is linked to, with the link's words and dates."""

    person_id: str | None  # None for a school, or a district-wide assignment
    name: str
    what: str
    start: date | None
    end: date | None


@dataclass(frozen=True)
class HouseholdMembers:
    household_id: str
    name: str
    members: list[Link]


@dataclass(frozen=True)
class PersonLinks:
    roles: list[str]
    enrollments: list[Link]
    assignments: list[Link]
    students: list[Link]  # the students this person is a contact of
    contacts: list[Link]  # this person's own contacts (for a student)
    households: list[HouseholdMembers]


def person_links(session: Session, ext_id: str, as_of: date) -> PersonLinks:
    person = session.scalars(select(Person).where(Person.ext_id == ext_id)).one()
    return PersonLinks(
        roles=_roles(session, person.id, as_of),
        enrollments=_enrollments(session, person.id),
        assignments=_assignments(session, person.id),
        students=_relationships(session, person.id, as_contact=True),
        contacts=_relationships(session, person.id, as_contact=False),
        households=_households(session, person.id),
    )


def _roles(session: Session, person_id: int, as_of: date) -> list[str]:
    held = (
        is_current_student(Person.id, as_of),
        has_active_assignment(Person.id, as_of),
        is_messenger_contact(Person.id, as_of),
    )
    found = session.execute(select(*held).where(Person.id == person_id)).one()
    names = ("Student", "Staff", "Messenger contact")
    return [name for name, holds in zip(names, found, strict=True) if holds]


def _full_name(person: Person) -> str:
    return f"{person.first_name} {person.last_name}"


def _enrollments(session: Session, person_id: int) -> list[Link]:
    rows = session.execute(
        select(School.name, Calendar.name, Enrollment.grade, Enrollment.start_date)
        .add_columns(Enrollment.end_date)
        .join(Calendar, Calendar.id == Enrollment.calendar_id)
        .join(School, School.id == Calendar.school_id)
        .where(Enrollment.person_id == person_id)
        .order_by(Calendar.school_year.desc(), School.name, Calendar.name)
    )
    return [
        Link(None, school, f"grade {grade}, calendar {calendar}", start, end)
        for school, calendar, grade, start, end in rows
    ]


def _assignments(session: Session, person_id: int) -> list[Link]:
    rows = session.execute(
        select(School.name, DistrictAssignment.title, DistrictAssignment.start_date)
        .add_columns(DistrictAssignment.end_date)
        .outerjoin(School, School.id == DistrictAssignment.school_id)
        .where(DistrictAssignment.person_id == person_id)
        .order_by(School.name, DistrictAssignment.title)
    )
    return [
        Link(None, school or "The district", title, start, end)
        for school, title, start, end in rows
    ]


def _relationships(session: Session, person_id: int, *, as_contact: bool) -> list[Link]:
    other = aliased(Person)
    mine, theirs = (
        (Relationship.contact_id, Relationship.student_id)
        if as_contact
        else (Relationship.student_id, Relationship.contact_id)
    )
    rows = session.execute(
        select(other, Relationship)
        .join(other, other.id == theirs)
        .where(mine == person_id)
        .order_by(other.last_name, other.first_name, other.ext_id)
    )
    links = []
    for person, link in rows:
        flags = [word for word, on in (("guardian", link.guardian), ("messenger", link.messenger))
                 if on]  # fmt: skip
        what = (link.name or "Contact") + (f" ({', '.join(flags)})" if flags else "")
        links.append(Link(person.ext_id, _full_name(person), what, link.start_date, link.end_date))
    return links


def _households(session: Session, person_id: int) -> list[HouseholdMembers]:
    mine = select(HouseholdMember.household_id).where(HouseholdMember.person_id == person_id)
    rows = session.execute(
        select(Household.ext_id, Household.name, Person, HouseholdMember)
        .join(HouseholdMember, HouseholdMember.household_id == Household.id)
        .join(Person, Person.id == HouseholdMember.person_id)
        .where(Household.id.in_(mine), Person.id != person_id)
        .order_by(Household.name, Household.ext_id, Person.last_name, Person.first_name)
    )
    households: dict[str, HouseholdMembers] = {}
    for ext_id, name, member, membership in rows:
        household = households.setdefault(ext_id, HouseholdMembers(ext_id, name, []))
        household.members.append(
            Link(
                member.ext_id,
                _full_name(member),
                "member",
                membership.start_date,
                membership.end_date,
            )  # fmt: skip
        )
    return list(households.values())
