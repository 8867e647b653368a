"""A filter's criteria (docs/batches.md, "Filters"): structured JSON, never SQL. Every criterion
given must hold.

A student filter takes `grades`, `schoolIds` and `personIds`; a census filter `personIds`,
`staff`, `assignmentSchoolIds`, `students` and `messengerContacts`.
"""

from typing import Annotated, Any, Final, Self

from pydantic import Field, model_validator
from pydantic_core import PydanticCustomError

from shared.core.contract import Body, Flag, Identifier, PlainText, one_of
from shared.core.vocabulary import FilterKind

MAX_PERSON_IDS: Final = 100_000
MAX_SCHOOL_IDS: Final = 10_000
MAX_GRADES: Final = 100
CRITERIA_OF: Final = {
    FilterKind.STUDENT: ("grades", "schoolIds", "personIds"),
    FilterKind.CENSUS: (
        "personIds",
        "staff",
        "assignmentSchoolIds",
        "students",
        "messengerContacts",
    ),
}

Grade = Annotated[str, PlainText(16, blank="must not be empty")]
Left = Field(default=None, exclude_if=lambda value: value is None)


class Criteria(Body):
    """The criteria a filter holds; one left out (or null) does not narrow."""

    grades: Annotated[list[Grade], Field(max_length=MAX_GRADES)] | None = Left
    school_ids: Annotated[list[Identifier], Field(max_length=MAX_SCHOOL_IDS)] | None = Left
    person_ids: Annotated[list[Identifier], Field(max_length=MAX_PERSON_IDS)] | None = Left
    staff: Flag | None = Left
    assignment_school_ids: Annotated[list[Identifier], Field(max_length=MAX_SCHOOL_IDS)] | None = (
        Left
    )
    students: Flag | None = Left
    messenger_contacts: Flag | None = Left

    def stored(self) -> dict[str, Any]:
        """As kept with the filter (and copied into each batch that uses it): the criteria
        given, each list without repeats."""
        given = self.model_dump(by_alias=True, exclude_none=True)
        return {
            key: list(dict.fromkeys(value)) if isinstance(value, list) else value
            for key, value in given.items()
        }


class FilterRequest(Body):
    """A saved filter: a name, its kind, and criteria of that kind."""

    not_an_object = "the request body must be a JSON object"

    name: Annotated[str, PlainText(200, blank="a filter needs a name")]
    kind: Annotated[FilterKind, one_of(*FilterKind)]
    criteria: Criteria | None = None

    @model_validator(mode="after")
    def _criteria_of_kind(self) -> Self:
        known = CRITERIA_OF[self.kind]
        for key in self.stored_criteria():
            if key not in known:
                raise PydanticCustomError(
                    "criterion",
                    "unknown criterion for a {kind} filter; one of {known}",
                    {"kind": str(self.kind), "known": ", ".join(known), "at": f"criteria.{key}"},
                )
        return self

    def stored_criteria(self) -> dict[str, Any]:
        return self.criteria.stored() if self.criteria is not None else {}
