"""Reach: per reason and school, the students with at least one guardian who would receive it
by phone, by e-mail and by either; and the students nobody would reach, as CSV. A school admin
sees their schools only."""

from collections.abc import Iterator
from datetime import date

from flask import Response

from shared.core.db import read_session
from shared.core.spreadsheet import csv_lines
from shared.people.reachability import ReachReport, reach_report, unreached
from web.api.routes import CSV, api
from web.auth import school_limit
from web.queries import ReachQuery, UnreachedQuery
from web.services import services

UNREACHED_COLUMNS = ("personId", "firstName", "lastName", "schoolId", "school", "grade")


def as_of_or_today(query: ReachQuery) -> date:
    return query.as_of or services().today()


@api.get(
    "/reach",
    summary="Per reason, for the district and each school: the students enrolled as of the "
    "date, and how many have a guardian who would receive it by phone, by e-mail, by either",
    query=ReachQuery,
    response=ReachReport,
)
def get_reach(query: ReachQuery) -> ReachReport:
    schools = school_limit()
    with read_session(services().session_factory) as session:
        return reach_report(session, as_of_or_today(query), schools)


@api.get(
    "/reach/unreached.csv",
    summary="The students no guardian would reach for the reason (default emergency) by any "
    "channel, as of the date: personId,firstName,lastName,schoolId,school,grade, one row each",
    query=UnreachedQuery,
    response=CSV,
)
def unreached_csv(query: UnreachedQuery) -> Response:
    schools = school_limit()
    as_of = as_of_or_today(query)
    session_factory = services().session_factory

    def lines() -> Iterator[str]:
        with read_session(session_factory) as session:
            rows = unreached(session, as_of, query.reason, schools)
            yield from csv_lines(
                UNREACHED_COLUMNS,
                (
                    (r.person_id, r.first_name, r.last_name, r.school_id, r.school, r.grade)
                    for r in rows
                ),
            )

    filename = f"unreached-{query.reason}-{as_of.isoformat()}.csv"
    return Response(
        lines(), mimetype=CSV, headers={"Content-Disposition": f'attachment; filename="{filename}"'}
    )
