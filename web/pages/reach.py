"""The Reach page: for a reason, per school, how many students have a guardian who would receive
it by phone, by e-mail and by either, drawn as bars (server-side SVG, no script) with the
numbers beside them; every reason for the district; and the students nobody would reach, with
the whole list as CSV."""

from dataclasses import dataclass
from itertools import islice
from typing import Final

from flask import Blueprint, render_template

from shared.core.errors import InvalidRequest
from shared.core.vocabulary import REASONS
from shared.people.reachability import Reached, ReachReport, reach_report, unreached
from web.auth import school_limit
from web.labels import REASON_LABELS
from web.queries import UnreachedQuery, query_of
from web.services import services

SHOWN_UNREACHED: Final = 100
KINDS: Final = (("phone", "Phone"), ("email", "E-mail"), ("either", "Either"))
BAR_WIDTH: Final = 300  # the chart's bars at 100 %, in SVG units

bp = Blueprint("reach", __name__)


@dataclass(frozen=True)
class Figure:
    """One count of students out of a whole, with its share."""

    count: int
    of: int

    @property
    def percent(self) -> str:
        return f"{100 * self.count / self.of:.0f} %" if self.of else "–"

    @property
    def bar(self) -> float:
        return round(BAR_WIDTH * self.count / self.of, 1) if self.of else 0.0


@dataclass(frozen=True)
class Line:
    """A row of the page: a school (or a reason for the district) and its figures."""

    label: str
    students: int
    phone: Figure
    email: Figure
    either: Figure

    @property
    def nobody(self) -> Figure:
        return Figure(self.students - self.either.count, self.students)


def line(label: str, reached: Reached, reason: str) -> Line:
    figures = reached.reasons[reason]
    n = reached.students
    return Line(
        label, n, Figure(figures.phone, n), Figure(figures.email, n), Figure(figures.either, n)
    )


@bp.get("/reach")
def page() -> tuple[str, int] | str:
    try:
        query = query_of(UnreachedQuery, forms=True)
    except InvalidRequest as error:
        return render_template("reach.html", error=error, reasons=REASON_LABELS), 400
    as_of = query.as_of or services().today()
    schools = school_limit()
    with services().session_factory() as session:
        report: ReachReport = reach_report(session, as_of, schools)
        nobody = list(islice(unreached(session, as_of, query.reason, schools), SHOWN_UNREACHED))
    return render_template(
        "reach.html",
        report=report,
        reason=query.reason,
        reasons=REASON_LABELS,
        kinds=KINDS,
        district=[line(REASON_LABELS[r], report.district, r) for r in REASONS],
        schools=[line(s.name, s, query.reason) for s in report.schools],
        whole=line(
            "District" if schools is None else "Your schools", report.district, query.reason
        ),
        unreached=nobody,
        shown=SHOWN_UNREACHED,
        bar_width=BAR_WIDTH,
    )
