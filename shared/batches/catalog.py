"""What the batch wizard offers in its selects: school years, schools, calendars and filters."""

from dataclasses import dataclass
from datetime import date

from sqlalchemy import ColumnElement, select, true
from sqlalchemy.orm import Session

from shared.access.reach import filter_reach, reach_of
from shared.models import Calendar, Filter, School, User


@dataclass(frozen=True)
class SchoolOption:
    school_id: str
    name: str


@dataclass(frozen=True)
class CalendarOption:
    calendar_id: str
    name: str
    school_id: str
    school_name: str
    school_year: str


@dataclass(frozen=True)
class FilterOption:
    filter_id: int
    name: str
    kind: str


def school_years(session: Session) -> list[str]:
    """Newest first: years are written like `2025-26`, so the text order is the time order."""
    return list(
        session.scalars(
            select(Calendar.school_year).distinct().order_by(Calendar.school_year.desc())
        )
    )


def current_school_year(session: Session, today: date) -> str | None:
    """The school year of a calendar running today; else the newest; None without calendars."""
    running = session.scalar(
        select(Calendar.school_year)
        .where(Calendar.start_date <= today, Calendar.end_date >= today)
        .order_by(Calendar.school_year.desc())
        .limit(1)
    )
    if running is not None:
        return running
    years = school_years(session)
    return years[0] if years else None


def schools(session: Session, user: User | None = None) -> list[SchoolOption]:
    """The schools the user may name in a batch (a school admin: theirs), by name."""
    rows = session.execute(
        select(School.ext_id, School.name)
        .where(_school_reach(session, user))
        .order_by(School.name, School.ext_id)
    )
    return [SchoolOption(school_id=ext_id, name=name) for ext_id, name in rows]


def calendars(
    session: Session, school_year: str | None = None, user: User | None = None
) -> list[CalendarOption]:
    """The calendars of the schools the user may name: newest year first, then by school and
    calendar name."""
    query = (
        select(Calendar.ext_id, Calendar.name, School.ext_id, School.name, Calendar.school_year)
        .join(School, School.id == Calendar.school_id)
        .where(_school_reach(session, user))
        .order_by(Calendar.school_year.desc(), School.name, Calendar.name, Calendar.ext_id)
    )
    if school_year is not None:
        query = query.where(Calendar.school_year == school_year)
    return [
        CalendarOption(
            calendar_id=calendar_id,
            name=name,
            school_id=school_id,
            school_name=school_name,
            school_year=year,
        )
        for calendar_id, name, school_id, school_name, year in session.execute(query)
    ]


def filters(session: Session, kind: str, user: User | None = None) -> list[FilterOption]:
    """The saved filters of one kind (`student` or `census`) the user may use, by name."""
    rows = session.execute(
        select(Filter.id, Filter.name, Filter.kind)
        .where(Filter.kind == kind, filter_reach(reach_of(session, user)))
        .order_by(Filter.name, Filter.id)
    )
    return [FilterOption(filter_id=id_, name=name, kind=kind_) for id_, name, kind_ in rows]


def _school_reach(session: Session, user: User | None) -> ColumnElement[bool]:
    school_ids = reach_of(session, user).school_ids
    return true() if school_ids is None else School.id.in_(school_ids)


@dataclass(frozen=True)
class Names:
    """The names the pages show for the ids batches name (an id missing here was deleted)."""

    schools: dict[str, str]
    calendars: dict[str, str]
    filters: dict[int, str]


def names(
    session: Session, school_ids: set[str], calendar_ids: set[str], filter_ids: set[int]
) -> Names:
    """The names of the schools, calendars and filters a page of batches names, in three
    queries at most."""
    schools_named: dict[str, str] = {}
    calendars_named: dict[str, str] = {}
    filters_named: dict[int, str] = {}
    if school_ids:
        schools_named = dict(
            session.execute(
                select(School.ext_id, School.name).where(School.ext_id.in_(school_ids))
            ).all()
        )
    if calendar_ids:
        calendars_named = dict(
            session.execute(
                select(Calendar.ext_id, Calendar.name).where(Calendar.ext_id.in_(calendar_ids))
            ).all()
        )
    if filter_ids:
        filters_named = dict(
            session.execute(select(Filter.id, Filter.name).where(Filter.id.in_(filter_ids))).all()
        )
    return Names(schools_named, calendars_named, filters_named)
