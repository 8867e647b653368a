"""The request contract: request bodies and views as pydantic models, from which the API's
OpenAPI document is generated, so what is accepted and what is documented are one description.

A request body (`Body`) accepts its fields by their camelCase names only, refuses any other key,
and checks each value's type, length or range strictly: a string is never read as a number or a
boolean. Text never holds a control character, a bidi override or a lone UTF-16 surrogate (a JSON
`\\ud800` escape), which no column may store. `parse` turns the first problem into
`InvalidRequest`, naming the field as a dotted path (`changes.cellPhone.sms`).

A view (`View`) is what the interfaces show: built in Python by field name, written out by alias.
"""

import re
from calendar import monthrange
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any, ClassVar, Final, Generic, TypeVar

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    PlainSerializer,
    RootModel,
    ValidationError,
    WithJsonSchema,
    model_validator,
)
from pydantic.alias_generators import to_camel
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import ErrorDetails, PydanticCustomError, core_schema

from shared.core.errors import InvalidRequest
from shared.core.vocabulary import MONTHS

# Ids are 32-bit integer columns on both databases.
MAX_ID: Final = 2**31 - 1
# Characters no text field takes: C0 and C1 controls (NUL included), bidi embeddings, overrides
# and isolates (they make a name read differently from what it holds), and lone surrogates (JSON
# can carry one; no database column can store it).
FORBIDDEN_CHARACTERS: Final = re.compile(
    "[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)
# The same ranges as the OpenAPI document writes them (ECMA-262; it cannot name surrogates).
FORBIDDEN_RANGES: Final = "\\u0000-\\u001f\\u007f-\\u009f\\u202a-\\u202e\\u2066-\\u2069"

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")


class Body(BaseModel):
    """A request body, or an object within one."""

    model_config = ConfigDict(
        extra="forbid", alias_generator=to_camel, validate_by_name=False, frozen=True
    )
    # What an error says when the value is not an object, or names a key the model lacks.
    not_an_object: ClassVar[str] = "must be an object"

    @classmethod
    def unknown_key(cls, key: str) -> str:
        return f"unknown field {key!r}"

    @model_validator(mode="before")
    @classmethod
    def _known_keys(cls, data: Any) -> Any:
        if isinstance(data, cls):
            return data
        if not isinstance(data, Mapping):
            raise PydanticCustomError("object_type", cls.not_an_object)
        known = {field.alias or name for name, field in cls.model_fields.items()}
        for key in data:
            if key not in known:
                raise PydanticCustomError("unknown_key", cls.unknown_key(str(key)), {"at": key})
        return data


class View(BaseModel):
    """What an interface shows: made in Python by field name, written out by camelCase alias."""

    model_config = ConfigDict(alias_generator=to_camel, validate_by_name=True, frozen=True)

    def to_json(self) -> str:
        return self.model_dump_json(by_alias=True)


class Tagged(RootModel[T], Generic[T]):
    """A body that is one of several models, told apart by the value of one field, `tag`
    (a discriminated union): the document shows each model with its own fields."""

    tag: ClassVar[str]


def parse(model: type[M], payload: Any) -> M:
    """`payload` as `model`, or InvalidRequest for its first problem (fields in their order)."""
    try:
        return model.model_validate(payload)
    except ValidationError as error:
        tag = getattr(model, "tag", None) if issubclass(model, Tagged) else None
        raise invalid_request(error.errors()[0], tag, payload) from None


def invalid_request(
    error: ErrorDetails, tag: str | None = None, payload: Any = None
) -> InvalidRequest:
    """The error as the interfaces say it. A validator may point below the value it checks
    with `at` in its context (a key of an object, a field of the model). Of a tagged body,
    pydantic starts the path with the tag's value, which is no field: it goes."""
    context = error.get("ctx") or {}
    path = [str(part) for part in error["loc"]]
    if tag is not None and path and isinstance(payload, dict) and path[0] == payload.get(tag):
        path = path[1:]
    if error["type"] in ("union_tag_invalid", "union_tag_not_found") and tag is not None:
        path = [tag]
    if "at" in context:
        path.append(str(context["at"]))
    return InvalidRequest(_message(error, context), field=".".join(path) or None)


def _message(error: ErrorDetails, context: dict[str, Any]) -> str:
    template = MESSAGES.get(error["type"])
    if template is None:
        return error["msg"]
    if "expected_tags" in context:
        context = context | {"expected_tags": context["expected_tags"].replace("'", "")}
    return template.format(**context)


MESSAGES: Final = {
    "missing": "is required",
    "union_tag_not_found": "is required",
    "union_tag_invalid": "must be one of {expected_tags}; got '{tag}'",
    "string_type": "must be a string",
    "int_type": "must be a whole number",
    "int_parsing": "must be a whole number",
    "bool_type": "must be true or false",
    "float_type": "must be a number",
    "list_type": "must be a list",
    "dict_type": "must be an object",
    "model_type": "must be an object",
    "model_attributes_type": "must be an object",
    "string_unicode": "must be Unicode text; it holds a lone surrogate",
    "string_too_long": "must be at most {max_length} characters",
    "too_long": "must have at most {max_length} items",
    "less_than_equal": "must be at most {le}",
    "greater_than_equal": "must be at least {ge}",
}


@dataclass(frozen=True)
class PlainText:
    """Annotates a `str`: at most `max_length` characters (the column's width) and no control
    character (see FORBIDDEN_CHARACTERS); with `blank`, the error when it holds nothing but
    spaces (or nothing), it must hold something else."""

    max_length: int
    blank: str | None = None

    def __get_pydantic_core_schema__(
        self, _source: Any, _handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        text = core_schema.str_schema(strict=True, max_length=self.max_length)
        return core_schema.no_info_after_validator_function(self.check, text)

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        described = handler(schema)
        if self.blank is None:
            described["pattern"] = f"^[^{FORBIDDEN_RANGES}]*$"
        else:
            described["minLength"] = 1
            described["pattern"] = (
                f"^[^{FORBIDDEN_RANGES}]*[^\\s{FORBIDDEN_RANGES}][^{FORBIDDEN_RANGES}]*$"
            )
        return described

    def check(self, value: str) -> str:
        found = FORBIDDEN_CHARACTERS.search(value)
        if found is not None:
            raise PydanticCustomError(
                "plain_text",
                "must not contain U+{code} (a control character, a bidi control or a lone "
                "surrogate) at character {position}",
                {"code": f"{ord(found.group()):04X}", "position": found.start() + 1},
            )
        if self.blank is not None and not value.strip():
            raise PydanticCustomError("blank", self.blank)
        return value


def one_of(*values: str, message: str = "must be one of {allowed}; got {got}") -> Any:
    """A before-validator that refuses anything but `values`, saying which they are (`message`
    may name `{allowed}` and `{got}`)."""
    allowed = ", ".join(values)

    def check(value: Any) -> Any:
        if not isinstance(value, str) or value not in values:
            raise PydanticCustomError("one_of", message, {"allowed": allowed, "got": repr(value)})
        return value

    return BeforeValidator(check)


DATE_SHAPE: Final = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _iso_date(value: Any) -> Any:
    if isinstance(value, date):
        return value
    if not (isinstance(value, str) and DATE_SHAPE.fullmatch(value)):
        raise PydanticCustomError(
            "iso_date", "must be a date as YYYY-MM-DD; got {got}", {"got": repr(value)}
        )
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise PydanticCustomError(
            "no_such_day",
            "there is no such day as {got}: {why}",
            {"got": value, "why": _why_no_day(value)},
        ) from None


def _why_no_day(text: str) -> str:
    year, month, day = (int(part) for part in text.split("-"))
    if year == 0:
        return "years start at 0001"
    if not 1 <= month <= 12:
        return "a month is 01 to 12"
    return f"{MONTHS[month]} {year} has {monthrange(year, month)[1]} days"


def _integral(value: Any) -> Any:
    """A float with nothing after the point is the integer it writes (JSON Schema counts 1.0 as
    an integer); a string or a boolean stays what it is, and is refused."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


# A row id, as a body names one.
Id = Annotated[
    int,
    BeforeValidator(_integral),
    Field(strict=True, ge=1, le=MAX_ID),
    WithJsonSchema({"type": "integer", "minimum": 1, "maximum": MAX_ID}),
]
# A date written as YYYY-MM-DD, and only so.
IsoDate = Annotated[
    date,
    BeforeValidator(_iso_date),
    WithJsonSchema({"type": "string", "format": "date", "example": "2025-10-15"}),
]
Flag = Annotated[bool, Field(strict=True)]


def omitted() -> Any:
    """A field that may be None, and is left out of the written view when it is."""
    return Field(default=None, exclude_if=lambda value: value is None)


# A moment, written as RFC 3339 with its offset (+00:00: moments are kept in UTC).
Moment = Annotated[
    datetime,
    PlainSerializer(lambda moment: moment.isoformat(), return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "format": "date-time"}, mode="serialization"),
]
# The district's identifiers (of schools, calendars, people, households): 64 characters at most.
Identifier = Annotated[str, PlainText(64, blank="must not be empty")]
SchoolYear = Annotated[str, PlainText(9, blank="must not be empty")]
