"""The text forms of a rule's parts in the API, each a pydantic type that checks and reads
one: a time of day (`ClockTime`, "02:00"), a local date and time (`LocalMinute`,
"2027-08-01T02:00") and a cron expression (`CronExpression`, "0 2 * * 1-5").

Each says in the OpenAPI document, by a pattern, what it takes, and takes no more: what the
pattern refuses is refused. A few values the pattern lets by are refused still, for what a
pattern cannot say (30 February, a cron minute of 60).
"""

import re
from datetime import datetime, time
from typing import Annotated, Any, Final

from cronsim import CronSim, CronSimError
from pydantic import AfterValidator, BeforeValidator, Field, WithJsonSchema
from pydantic_core import PydanticCustomError

CRON_FIELDS: Final = ("minute", "hour", "day-of-month", "month", "day-of-week")
CLOCK_TIME: Final = re.compile("^([01][0-9]|2[0-3]):[0-5][0-9]$")
# The years of a once rule: any later, and a time zone's offset may take it past year 9999.
LOCAL_MINUTE: Final = re.compile(
    "^2[0-9]{3}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3]):[0-5][0-9]$"
)
# Five fields of what cron writes (numbers, names, L, W and * , - / #), split by spaces alone:
# cronsim splits at any whitespace, and would read six fields as seconds first.
CRON_TEXT: Final = re.compile("^ *[0-9A-Za-z*,/#-]+( +[0-9A-Za-z*,/#-]+){4} *$")
MAX_CRON_LENGTH: Final = 100


def _clock_time(value: Any) -> Any:
    if isinstance(value, str) and CLOCK_TIME.fullmatch(value):
        return time.fromisoformat(value)
    raise PydanticCustomError(
        "clock_time",
        "must be a time of day as HH:MM, 00:00 to 23:59; got {got}",
        {"got": repr(value)},
    )


def _local_minute(value: Any) -> Any:
    if isinstance(value, str) and LOCAL_MINUTE.fullmatch(value):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            pass
    raise PydanticCustomError(
        "local_minute",
        "must be a local date and time as YYYY-MM-DDTHH:MM (no seconds, no offset) in the years "
        "2000 to 2999; got {got}",
        {"got": repr(value)},
    )


def _cron_expression(value: str) -> str:
    fields = [field for field in value.split(" ") if field]
    if len(fields) != len(CRON_FIELDS):
        raise PydanticCustomError(
            "cron_fields",
            "must be five fields separated by spaces ({names}), like '0 2 * * 1-5'; it has {count}",
            {"names": " ".join(CRON_FIELDS), "count": len(fields)},
        )
    if not CRON_TEXT.fullmatch(value):
        raise PydanticCustomError(
            "cron_text", "may hold only letters, digits, spaces and the characters * , - / #"
        )
    try:
        CronSim(value, datetime(2000, 1, 1))
    except CronSimError as error:
        raise PydanticCustomError("cron", _cron_problem(str(error), fields)) from None
    return value


def _cron_problem(problem: str, fields: list[str]) -> str:
    """cronsim's "Bad day-of-month", with the field it is about."""
    for name, field in zip(CRON_FIELDS, fields, strict=True):
        if problem == f"Bad {name}":
            return f"is not a valid cron expression: bad {name} field {field!r}"
    return f"is not a valid cron expression: {problem}"


ClockTime = Annotated[
    time,
    BeforeValidator(_clock_time),
    WithJsonSchema({"type": "string", "pattern": CLOCK_TIME.pattern, "examples": ["02:00"]}),
]
LocalMinute = Annotated[
    datetime,
    BeforeValidator(_local_minute),
    WithJsonSchema(
        {"type": "string", "pattern": LOCAL_MINUTE.pattern, "examples": ["2027-08-01T02:00"]}
    ),
]
CronExpression = Annotated[
    str,
    Field(strict=True, max_length=MAX_CRON_LENGTH),
    AfterValidator(_cron_expression),
    WithJsonSchema(
        {
            "type": "string",
            "maxLength": MAX_CRON_LENGTH,
            "pattern": CRON_TEXT.pattern,
            "description": "five crontab(5) fields in local time: " + " ".join(CRON_FIELDS),
            "examples": ["0 2 * * 1-5"],
        }
    ),
]
