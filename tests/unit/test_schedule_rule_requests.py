"""A schedule's rule as the API takes it, writes it and the pages word it: every refusal names
the field and says what is wrong; what parses writes back the same."""

from datetime import datetime, time
from typing import Any

import pytest
from cronsim import CronSim

from shared.core.contract import Body, parse
from shared.core.errors import InvalidRequest
from shared.schedules.rules import Cron, Once, Rule, RuleRequest, Yearly, describe, rule_to_json

ONE = "give exactly one of yearly, cron, once"
FIVE = (
    "must be five fields separated by spaces (minute hour day-of-month month day-of-week), "
    "like '0 2 * * 1-5'; it has {}"
)
CLOCK = "must be a time of day as HH:MM, 00:00 to 23:59; got {!r}"
ONCE = (
    "must be a local date and time as YYYY-MM-DDTHH:MM (no seconds, no offset) in the years "
    "2000 to 2999; got {!r}"
)
CRON_TEXT = "may hold only letters, digits, spaces and the characters * , - / #"


def yearly(**given: Any) -> dict[str, Any]:
    return {"yearly": {"month": 8, "day": 1, "time": "02:00"} | given}


class ScheduleBody(Body):
    rule: RuleRequest


def refusal(model: type[Body], payload: Any) -> tuple[str | None, str]:
    with pytest.raises(InvalidRequest) as refused:
        parse(model, payload)
    return refused.value.field, refused.value.message


@pytest.mark.parametrize(
    ("payload", "rule", "written"),
    [
        (yearly(), Yearly(8, 1, time(2)), None),
        (yearly(month=2, day=29, time="23:59"), Yearly(2, 29, time(23, 59)), None),
        ({"cron": "0 2 * * 1-5"}, Cron("0 2 * * 1-5"), None),
        ({"cron": "  0  2 * *   mon-fri "}, Cron("0 2 * * mon-fri"), {"cron": "0 2 * * mon-fri"}),
        ({"cron": "0 9 * * MON#2"}, Cron("0 9 * * MON#2"), None),
        ({"once": "2027-08-01T02:00"}, Once(datetime(2027, 8, 1, 2)), None),
    ],
)
def test_a_rule_parses_and_writes_back_in_the_same_shape(
    payload: dict[str, Any], rule: Rule, written: dict[str, Any] | None
):
    """`written` is None where the rule is written as it was given."""
    parsed = parse(RuleRequest, payload).rule()
    assert parsed == rule
    assert rule_to_json(rule) == (written or payload)
    assert RuleRequest.model_validate(rule_to_json(rule)).rule() == rule


@pytest.mark.parametrize(
    ("payload", "field", "message"),
    [
        ([], None, "must be an object with one of yearly, cron, once"),
        ({}, None, ONE),
        ({"cron": None}, None, ONE),
        ({"cron": "0 2 * * *", "once": None}, None, ONE),
        ({"cron": "0 2 * * *", "once": "2027-08-01T02:00"}, None, ONE),
        ({"daily": "02:00"}, "daily", "unknown field 'daily'"),
        (
            yearly(month=2, day=30),
            "yearly.day",
            "there is no 30 February: February has 28 days, 29 in leap years",
        ),
        (yearly(month=4, day=31), "yearly.day", "there is no 31 April: April has 30 days"),
        (yearly(day=32), "yearly.day", "must be at most 31"),
        (yearly(day=0), "yearly.day", "must be at least 1"),
        (yearly(month=13), "yearly.month", "must be at most 12"),
        (yearly(month="8"), "yearly.month", "must be a whole number"),
        (yearly(month=True), "yearly.month", "must be a whole number"),
        (yearly(time="24:00"), "yearly.time", CLOCK.format("24:00")),
        (yearly(time="2:00"), "yearly.time", CLOCK.format("2:00")),
        (yearly(time="02:00:00"), "yearly.time", CLOCK.format("02:00:00")),
        (yearly(time=200), "yearly.time", CLOCK.format(200)),
        ({"yearly": {"month": 8, "day": 1}}, "yearly.time", "is required"),
        (yearly(hour=2), "yearly.hour", "unknown field 'hour'"),
        ({"yearly": "every year"}, "yearly", "must be an object"),
        ({"cron": "@daily"}, "cron", FIVE.format(1)),
        ({"cron": "0 0 2 * * *"}, "cron", FIVE.format(6)),
        ({"cron": ""}, "cron", FIVE.format(0)),
        ({"cron": "0\t2 * * * *"}, "cron", CRON_TEXT),
        ({"cron": "0 2 ? * *"}, "cron", CRON_TEXT),
        ({"cron": "60 2 * * *"}, "cron", "is not a valid cron expression: bad minute field '60'"),
        (
            {"cron": "0 2 32 * *"},
            "cron",
            "is not a valid cron expression: bad day-of-month field '32'",
        ),
        (
            {"cron": "0 2 30 2 *"},
            "cron",
            "is not a valid cron expression: bad day-of-month field '30'",
        ),
        (
            {"cron": "0 2 * * 8"},
            "cron",
            "is not a valid cron expression: bad day-of-week field '8'",
        ),
        ({"cron": "0 " * 50 + "0"}, "cron", "must be at most 100 characters"),
        ({"cron": 5}, "cron", "must be a string"),
        ({"once": "2027-08-01T02:00:00"}, "once", ONCE.format("2027-08-01T02:00:00")),
        ({"once": "2027-08-01T02:00+02:00"}, "once", ONCE.format("2027-08-01T02:00+02:00")),
        ({"once": "2027-02-30T02:00"}, "once", ONCE.format("2027-02-30T02:00")),
        ({"once": "1999-08-01T02:00"}, "once", ONCE.format("1999-08-01T02:00")),
    ],
)
def test_a_refused_rule_names_the_field_and_the_problem(
    payload: Any, field: str | None, message: str
):
    assert refusal(RuleRequest, payload) == (field, message)


def test_within_a_body_the_path_starts_at_the_rule():
    assert refusal(ScheduleBody, {"rule": {}}) == ("rule", ONE)
    assert refusal(ScheduleBody, {"rule": yearly(day=31, month=6)}) == (
        "rule.yearly.day",
        "there is no 31 June: June has 30 days",
    )
    assert refusal(ScheduleBody, {"rule": {"cron": "daily"}})[0] == "rule.cron"


def test_the_document_says_exactly_one_key_and_gives_valid_examples():
    schema = RuleRequest.model_json_schema(by_alias=True)
    assert (schema["minProperties"], schema["maxProperties"]) == (1, 1)
    assert schema["additionalProperties"] is False
    properties = schema["properties"]
    assert properties["yearly"] == {"$ref": "#/$defs/YearlyRequest"}
    assert all("anyOf" not in field and "default" not in field for field in properties.values())
    assert properties["cron"]["maxLength"] == 100
    time_of_day = schema["$defs"]["YearlyRequest"]["properties"]["time"]
    assert time_of_day["pattern"] == "^([01][0-9]|2[0-3]):[0-5][0-9]$"
    for key, example in [("cron", properties["cron"]), ("once", properties["once"])]:
        assert all(parse(RuleRequest, {key: value}) for value in example["examples"])
    assert parse(RuleRequest, yearly(time=time_of_day["examples"][0]))


@pytest.mark.parametrize(
    ("rule", "words"),
    [
        (Yearly(8, 1, time(2)), "every year on 1 August at 02:00"),
        (Yearly(2, 29, time(23, 59)), "every year on 29 February at 23:59 (in leap years only)"),
        (Once(datetime(2027, 8, 1, 2)), "once, on 1 August 2027 at 02:00"),
        (Cron("0 2 * * 1-5"), "at 02:00 on Monday through Friday"),
        (Cron("0 2 1 8 *"), "at 02:00 on August 1"),
        (Cron("*/15 * * * *"), "every 15th minute of every hour"),
        (Cron("0 0 13 * 5"), "at 00:00 on the 13th day of month and on Friday"),
    ],
)
def test_a_rule_in_words(rule: Rule, words: str):
    assert describe(rule) == words


def test_a_cron_rule_that_cronsim_cannot_word_shows_its_fields(monkeypatch: pytest.MonkeyPatch):
    def cannot(_self: CronSim) -> str:
        raise NotImplementedError

    monkeypatch.setattr(CronSim, "explain", cannot)
    assert describe(Cron("0 2 1 8 *")) == (
        "cron: 0 2 1 8 * (minute hour day-of-month month day-of-week)"
    )


def test_a_rule_holds_whole_local_minutes_of_real_days():
    for make in [
        lambda: Yearly(2, 30, time(2)),
        lambda: Yearly(8, 1, time(2, 0, 30)),
        lambda: Once(datetime(2027, 8, 1, 2, 0, 0, 1)),
        lambda: Once(datetime.fromisoformat("2027-08-01T02:00+00:00")),
    ]:
        with pytest.raises(ValueError):
            make()
    assert Cron(" 0\t2 *  * * ") == Cron("0 2 * * *")
