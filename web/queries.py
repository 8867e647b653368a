"""Query parameters as pydantic models: the API parses them strictly (an empty value is a value,
and refused if it is not one), the pages leave out the empty values a form sends."""

from datetime import date, datetime, time, timedelta
from typing import Annotated, Any, Final, TypeVar
from zoneinfo import ZoneInfo

from flask import request
from pydantic import BaseModel, BeforeValidator, ConfigDict, WithJsonSchema
from pydantic.alias_generators import to_camel
from pydantic_core import PydanticCustomError

from shared.access.audit import ACTIONS
from shared.batches.lookup import Selection
from shared.core.contract import MAX_ID, IsoDate, PlainText, one_of, parse
from shared.core.vocabulary import REASONS, BatchStatus, Mode

Q = TypeVar("Q", bound=BaseModel)
PER_PAGE: Final = 50
MAX_PER_PAGE: Final = 200
ONE_OF: Final = "must be one of {allowed}"


class Query(BaseModel):
    """Query parameters by their camelCase names; others are ignored (a cache buster, say)."""

    model_config = ConfigDict(alias_generator=to_camel, extra="ignore", frozen=True)


def _whole_number(maximum: int) -> BeforeValidator:
    def check(raw: Any) -> Any:
        if isinstance(raw, int):
            return raw
        if not (isinstance(raw, str) and raw.isascii() and raw.isdigit()) or int(raw) < 1:
            raise PydanticCustomError(
                "whole_number",
                "must be a whole number of at least 1; got {got}",
                {"got": repr(raw)},
            )
        if int(raw) > maximum:
            raise PydanticCustomError(
                "at_most", "must be at most {maximum}; got {got}", {"maximum": maximum, "got": raw}
            )
        return int(raw)

    return BeforeValidator(check)


def _counting(maximum: int) -> WithJsonSchema:
    return WithJsonSchema({"type": "integer", "minimum": 1, "maximum": maximum})


# Whole numbers from 1, given as the digits of a query string.
PageNumber = Annotated[int, _whole_number(MAX_ID), _counting(MAX_ID)]
PageSize = Annotated[int, _whole_number(MAX_PER_PAGE), _counting(MAX_PER_PAGE)]


class PageQuery(Query):
    page: PageNumber = 1
    per_page: PageSize = PER_PAGE


class BatchListQuery(PageQuery):
    """Each given criterion must hold; the dates are days in the district's time zone, both
    included."""

    status: Annotated[BatchStatus, one_of(*BatchStatus, message=ONE_OF)] | None = None
    mode: Annotated[Mode, one_of(*Mode, message=ONE_OF)] | None = None
    submitted_by: Annotated[str, PlainText(100)] | None = None
    submitted_from: IsoDate | None = None
    submitted_to: IsoDate | None = None

    def selection(self, zone: ZoneInfo) -> Selection:
        def midnight(day: date) -> datetime:
            return datetime.combine(day, time(), zone)

        return Selection(
            status=self.status,
            mode=self.mode,
            submitter=self.submitted_by,
            since=midnight(self.submitted_from) if self.submitted_from else None,
            before=midnight(self.submitted_to + timedelta(days=1)) if self.submitted_to else None,
        )


class AuditQuery(PageQuery):
    action: (
        Annotated[
            str,
            one_of(*ACTIONS, message=ONE_OF),
            WithJsonSchema({"type": "string", "enum": list(ACTIONS)}),
        ]
        | None
    ) = None
    username: Annotated[str, PlainText(100)] | None = None


class ReachQuery(Query):
    """`asOf`: the date enrollments, links and memberships are judged on (default: today in
    the district's time zone)."""

    as_of: IsoDate | None = None


class UnreachedQuery(ReachQuery):
    reason: Annotated[
        str,
        one_of(*REASONS, message=ONE_OF),
        WithJsonSchema({"type": "string", "enum": list(REASONS)}),
    ] = "emergency"


def query_of(model: type[Q], *, forms: bool = False) -> Q:
    """The request's query as `model`; with `forms`, an empty value counts as absent."""
    given = request.args.to_dict()
    if forms:
        given = {name: value for name, value in given.items() if value != ""}
    return parse(model, given)
