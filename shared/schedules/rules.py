"""The time rules of scheduled batches, pure: when a rule is due, in the district's local wall
time, and the instants (UTC) that this makes.

A rule is `Yearly` (a day of the year at a time), `Cron` (five crontab(5) fields) or `Once`
(one local date and time). The DST policy (`to_utc`, in `wall_time`) says which instant a wall
time is: the first instant at which the district's clocks show it or a later time. So a time
skipped by spring-forward runs when the clocks jump, and a time repeated by fall-back runs once,
at its first occurrence.

`RuleRequest` parses the API's shape of a rule (an object with one key), `rule_to_json` writes
it, `describe` words it for the pages, and `due_times` says when it is due.
"""

import calendar
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from itertools import islice
from typing import Annotated, Any, Final, Self, assert_never
from zoneinfo import ZoneInfo

from cronsim import CronSim
from pydantic import Field, GetJsonSchemaHandler, model_validator
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, PydanticCustomError

from shared.core.contract import Body
from shared.core.vocabulary import MONTHS
from shared.schedules.rule_text import CRON_FIELDS, ClockTime, CronExpression, LocalMinute
from shared.schedules.wall_time import to_utc, wall

# How far `next_due_times` looks: a rule due only on a rare day (29 February, the fifth Monday
# of February) may have fewer due times than asked for within it.
HORIZON: Final = timedelta(days=3653)
# A leap year: every day a yearly rule may name exists in it.
LEAP_YEAR: Final = 2000


@dataclass(frozen=True)
class Yearly:
    """Every year on `day` `month` at `at`; on 29 February, in leap years only (as cron)."""

    month: int
    day: int
    at: time

    def __post_init__(self) -> None:
        if self.day > days_in_month(self.month):
            raise ValueError(f"no day {self.day} in month {self.month}")
        _check_local_minute(self.at)


@dataclass(frozen=True)
class Cron:
    """A crontab(5) expression of five fields in local time, its fields joined by one space."""

    expression: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "expression", " ".join(self.expression.split()))


@dataclass(frozen=True)
class Once:
    """Once, at a naive local date and time of whole minutes."""

    at: datetime

    def __post_init__(self) -> None:
        _check_local_minute(self.at)


Rule = Yearly | Cron | Once


def _check_local_minute(at: time | datetime) -> None:
    if at.tzinfo is not None or at.second or at.microsecond:
        raise ValueError(f"a rule's time is a naive local time of whole minutes, not {at!r}")


def days_in_month(month: int) -> int:
    """The most days `month` has (29 for February)."""
    return calendar.monthrange(LEAP_YEAR, month)[1]


def rule_to_json(rule: Rule) -> dict[str, Any]:
    """The rule in the API's shape: an object with one key, yearly, cron or once."""
    match rule:
        case Yearly(month, day, at):
            return {"yearly": {"month": month, "day": day, "time": at.strftime("%H:%M")}}
        case Cron(expression):
            return {"cron": expression}
        case Once(at):
            return {"once": at.isoformat(timespec="minutes")}
        case _:
            assert_never(rule)


class YearlyRequest(Body):
    """Every year on a day at a local time; 29 February is due in leap years only."""

    month: Annotated[int, Field(strict=True, ge=1, le=12)]
    day: Annotated[int, Field(strict=True, ge=1, le=31)]
    time: ClockTime

    @model_validator(mode="after")
    def _day_exists(self) -> Self:
        if self.day > days_in_month(self.month):
            message = _no_such_day(self.day, self.month)
            raise PydanticCustomError("no_such_day", message, {"at": "day"})
        return self


def _no_such_day(day: int, month: int) -> str:
    name = MONTHS[month]
    days = "28 days, 29 in leap years" if month == 2 else f"{days_in_month(month)} days"
    return f"there is no {day} {name}: {name} has {days}"


class RuleRequest(Body):
    """When a schedule is due, in the district's local time: exactly one of yearly, cron
    (crontab(5)) or once."""

    not_an_object = "must be an object with one of yearly, cron, once"

    yearly: YearlyRequest | None = None
    cron: CronExpression | None = None
    once: LocalMinute | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Self:
        given = [value for value in (self.yearly, self.cron, self.once) if value is not None]
        if len(self.model_fields_set) != 1 or len(given) != 1:
            raise PydanticCustomError("one_rule", "give exactly one of yearly, cron, once")
        return self

    @classmethod
    def __get_pydantic_json_schema__(
        cls, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        """The document says "exactly one" as the model checks it: one key, never null."""
        described = handler.resolve_ref_schema(handler(schema))
        described |= {"minProperties": 1, "maxProperties": 1}
        for field in described["properties"].values():
            field.pop("default", None)
            field |= next(kind for kind in field.pop("anyOf") if kind != {"type": "null"})
        return described

    def rule(self) -> Rule:
        if self.yearly is not None:
            return Yearly(self.yearly.month, self.yearly.day, self.yearly.time)
        if self.cron is not None:
            return Cron(self.cron)
        assert self.once is not None
        return Once(self.once)


def due_times(
    rule: Rule, zone: ZoneInfo, *, after: datetime, until: datetime
) -> Iterator[datetime]:
    """Every instant (aware, UTC) the rule is due at with `after` < it <= `until`, in order,
    each once however many wall times make it (the times in a spring-forward gap all make the
    jump instant). Lazy: a caller may stop early.

    Wall times up to `after`'s own are due no later than `after` (`to_utc` never goes back as
    the wall time goes forward), so the local candidates start there."""
    start = wall(after, zone)
    previous = after
    for local in _wall_times(rule, start, until):
        instant = to_utc(local, zone)
        if instant > until:
            return
        if instant > previous:
            previous = instant
            yield instant


def next_due_times(rule: Rule, zone: ZoneInfo, after: datetime, count: int = 3) -> list[datetime]:
    """The next `count` due instants after `after`, looking at most ten years ahead: fewer
    for a once rule, or for a rule due on a rare day."""
    return list(islice(due_times(rule, zone, after=after, until=after + HORIZON), count))


def _wall_times(rule: Rule, start: datetime, until: datetime) -> Iterator[datetime]:
    """The rule's wall times from `start` on (the one at `start` may come too), in order;
    they end once past `until`'s year, or never (a cron rule: the caller stops)."""
    match rule:
        case Yearly():
            yield from _yearly_times(rule, range(start.year, until.year + 2))
        case Cron(expression):
            yield from CronSim(expression, start)
        case Once(at):
            yield at
        case _:
            assert_never(rule)


def _yearly_times(rule: Yearly, years: range) -> Iterator[datetime]:
    for year in years:
        if rule.day <= calendar.monthrange(year, rule.month)[1]:
            yield datetime.combine(date(year, rule.month, rule.day), rule.at)


def describe(rule: Rule) -> str:
    """The rule in plain words, for the pages. A cron rule is worded by cronsim's `explain`;
    should it fail on an expression, the fields are shown with their names instead."""
    match rule:
        case Yearly(month, day, at):
            leap = " (in leap years only)" if (month, day) == (2, 29) else ""
            return f"every year on {day} {MONTHS[month]} at {at:%H:%M}{leap}"
        case Cron(expression):
            return _explain(expression)
        case Once(at):
            return f"once, on {at.day} {MONTHS[at.month]} {at.year} at {at:%H:%M}"
        case _:
            assert_never(rule)


def _explain(expression: str) -> str:
    try:
        words = CronSim(expression, datetime(LEAP_YEAR, 1, 1)).explain()
    except Exception:  # a wording is never worth a failed page
        return f"cron: {expression} ({' '.join(CRON_FIELDS)})"
    return words[:1].lower() + words[1:]
