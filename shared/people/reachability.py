"""Reach: who would hear of each reason (`GET /api/v1/reach`, the Reach page).

For each school and the district: the students enrolled as of a date (an enrollment not ended,
in a calendar of the school whose dates contain the date, as the census filter's `students`
rule), and per reason how many of them have at least one guardian who would receive it by phone,
by e-mail, and by either. A guardian is an active messenger contact of the student (as batches
target them), and receives a reason on a channel of the kind where they have an address and the
reason is on: by phone through the phone of a household they are an active member of, or their
home, work or cell phone; by e-mail through their e-mail or secondary e-mail.

It reads the preferences as they are, in one statement: each person's reasons per kind as a
mask (the bitwise OR of the masks of their addressed channels), each student's as the OR of
their messenger contacts', then a count per school and for the district. The statement reads
whole tables with hash joins (parallel on PostgreSQL) rather than looking up each enrolled
student's contacts: at a million students that is about 10 s rather than 30 (docs/
benchmarks.md, "Reach"). A student enrolled at two
schools counts at both, and once in the district. The students no guardian reaches for a reason
are listed by `unreached`.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import (
    CTE,
    ColumnElement,
    Select,
    and_,
    case,
    func,
    literal,
    null,
    or_,
    select,
    true,
    union_all,
)
from sqlalchemy.orm import Session

from shared.core.contract import View
from shared.core.db import is_sqlite
from shared.core.grids import ByReason
from shared.core.vocabulary import ADDRESS_COLUMN, CHANNELS, HOUSEHOLD_PHONE, REASON_BIT, REASONS
from shared.filters.matching import active, not_ended
from shared.models import (
    Calendar,
    Enrollment,
    Household,
    HouseholdMember,
    Person,
    Relationship,
    School,
    preferences,
)

EMAIL_CHANNELS = tuple(CHANNELS.index(name) for name in ("email", "secondaryEmail"))


class ReasonReach(View):
    """Students with at least one guardian who would receive the reason, by kind of channel."""

    phone: int
    email: int
    either: int


class Reached(View):
    students: int
    reasons: ByReason[ReasonReach]


class SchoolReach(Reached):
    school_id: str
    name: str


class ReachReport(View):
    as_of: date
    district: Reached
    schools: list[SchoolReach]


@dataclass(frozen=True)
class Unreached:
    person_id: str
    first_name: str
    last_name: str
    school_id: str
    school: str
    grade: str


def reach_report(session: Session, as_of: date, school_ids: frozenset[int] | None) -> ReachReport:
    """The report as of `as_of`, for every school, or only `school_ids` (a school admin's);
    the district's figures then cover those schools."""
    masks = _student_masks(session, as_of, school_ids)
    by_school = select(masks.c.school_id, *_counts(masks)).group_by(masks.c.school_id)
    # A student's masks are the same at each of their schools: the district counts each once.
    students = select(masks.c.student_id, masks.c.phone, masks.c.email).distinct().subquery()
    whole = select(null().label("school_id"), *_counts(students))
    rows = {row[0]: row[1:] for row in session.execute(union_all(by_school, whole))}
    schools = session.execute(
        select(School.id, School.ext_id, School.name)
        .where(School.id.in_(school_ids) if school_ids is not None else true())
        .order_by(School.name, School.ext_id)
    ).all()
    return ReachReport(
        as_of=as_of,
        district=_reached(rows.get(None)),
        schools=[
            _school(ext_id, name, _reached(rows.get(school_id)))
            for school_id, ext_id, name in schools
        ],
    )


def _school(school_id: str, name: str, reached: Reached) -> SchoolReach:
    return SchoolReach(
        school_id=school_id, name=name, students=reached.students, reasons=reached.reasons
    )


def unreached(
    session: Session, as_of: date, reason: str, school_ids: frozenset[int] | None
) -> Iterator[Unreached]:
    """The students no guardian would reach for `reason` by any channel, one row each (at the
    first of their schools by name), by school, then name."""
    masks = _student_masks(session, as_of, school_ids)
    bit = REASON_BIT[reason]
    rows = session.execute(
        select(
            Person.ext_id,
            Person.first_name,
            Person.last_name,
            School.ext_id,
            School.name,
            masks.c.grade,
        )
        .select_from(masks)
        .join(Person, Person.id == masks.c.student_id)
        .join(School, School.id == masks.c.school_id)
        .where(masks.c.phone.op("|")(masks.c.email).op("&")(bit) == 0)
        .order_by(School.name, School.ext_id, Person.last_name, Person.first_name, Person.ext_id)
        .execution_options(yield_per=2000)
    )
    seen: set[str] = set()
    for person_id, first, last, school_id, school, grade in rows:
        if person_id not in seen:
            seen.add(person_id)
            yield Unreached(person_id, first, last, school_id, school, grade)


def _reached(row: Any) -> Reached:
    if row is None:
        row = (0,) * (1 + 3 * len(REASONS))
    return Reached(
        students=int(row[0]),
        reasons=ByReason[ReasonReach].model_validate(
            {
                reason: ReasonReach(
                    phone=int(row[1 + 3 * k] or 0),
                    email=int(row[2 + 3 * k] or 0),
                    either=int(row[3 + 3 * k] or 0),
                )
                for k, reason in enumerate(REASONS)
            }
        ),
    )


def _counts(masks: Any) -> list[ColumnElement[Any]]:
    def having(mask: ColumnElement[Any], bit: int) -> ColumnElement[Any]:
        return func.sum(case((mask.op("&")(bit) != 0, 1), else_=0))

    either = masks.c.phone.op("|")(masks.c.email)
    columns: list[ColumnElement[Any]] = [func.count()]
    for reason in REASONS:
        bit = REASON_BIT[reason]
        columns += [having(masks.c.phone, bit), having(masks.c.email, bit), having(either, bit)]
    return columns


def _bit_or(session: Session, mask: ColumnElement[Any]) -> ColumnElement[Any]:
    """The bitwise OR of `mask` over a group: PostgreSQL's bit_or; on SQLite, which has none,
    the sum of each bit's MAX (a bit is set in the OR when some row has it)."""
    if not is_sqlite(session):
        return func.coalesce(func.bit_or(mask), 0)
    return sum(
        (func.coalesce(func.max(mask.op("&")(bit)), 0) for bit in REASON_BIT.values()),
        start=literal(0),
    )


def _student_masks(session: Session, as_of: date, school_ids: frozenset[int] | None) -> CTE:
    """(school_id, student_id, grade, phone, email): every student enrolled as of the date at
    each school, with the OR of their guardians' reasons by phone and by e-mail (0 without)."""
    enrolled = (
        select(
            Calendar.school_id,
            Enrollment.person_id.label("student_id"),
            func.min(Enrollment.grade).label("grade"),
        )
        .join(Calendar, Calendar.id == Enrollment.calendar_id)
        .where(not_ended(Enrollment.end_date, as_of))
        .where(active(Calendar.start_date, Calendar.end_date, as_of))
        .group_by(Calendar.school_id, Enrollment.person_id)
    )
    if school_ids is not None:
        enrolled = enrolled.where(Calendar.school_id.in_(school_ids))
    enrolled_cte = enrolled.cte("enrolled")
    # Every active messenger link and every contact's masks, over whole tables: hash joins
    # (in parallel on PostgreSQL) beat a lookup per enrolled student or per contact.
    links = (
        select(Relationship.student_id, Relationship.contact_id)
        .where(Relationship.messenger.is_(True))
        .where(active(Relationship.start_date, Relationship.end_date, as_of))
        .distinct()
        .cte("links")
    )
    guardians = _guardian_masks(session, as_of).cte("guardians")
    students = (
        select(
            links.c.student_id,
            _bit_or(session, guardians.c.phone).label("phone"),
            _bit_or(session, guardians.c.email).label("email"),
        )
        .join(guardians, guardians.c.contact_id == links.c.contact_id)
        .group_by(links.c.student_id)
        .cte("students")
    )
    return (
        select(
            enrolled_cte.c.school_id,
            enrolled_cte.c.student_id,
            enrolled_cte.c.grade,
            func.coalesce(students.c.phone, 0).label("phone"),
            func.coalesce(students.c.email, 0).label("email"),
        )
        .outerjoin(students, students.c.student_id == enrolled_cte.c.student_id)
        .cte("masks")
    )


def _guardian_masks(session: Session, as_of: date) -> Select[Any]:
    """(contact_id, phone, email): each person's reasons on their addressed channels."""
    p = preferences.c
    has_address = or_(
        *(
            and_(p.channel == CHANNELS.index(channel), getattr(Person, column) != "")
            for channel, column in ADDRESS_COLUMN.items()
        )
    )
    is_email = p.channel.in_(EMAIL_CHANNELS)
    personal = (
        select(
            p.subject_id.label("contact_id"),
            case((is_email, 0), else_=p.mask).label("phone"),
            case((is_email, p.mask), else_=0).label("email"),
        )
        .join(Person, Person.id == p.subject_id)
        .where(p.channel != HOUSEHOLD_PHONE, has_address)
    )
    household = (
        select(
            HouseholdMember.person_id.label("contact_id"),
            p.mask.label("phone"),
            literal(0).label("email"),
        )
        .join(Household, Household.id == HouseholdMember.household_id)
        .join(preferences, and_(p.subject_id == Household.id, p.channel == HOUSEHOLD_PHONE))
        .where(Household.phone != "")
        .where(active(HouseholdMember.start_date, HouseholdMember.end_date, as_of))
    )
    rows = union_all(personal, household).subquery("addressed")
    return select(
        rows.c.contact_id,
        _bit_or(session, rows.c.phone).label("phone"),
        _bit_or(session, rows.c.email).label("email"),
    ).group_by(rows.c.contact_id)
