"""A filter's criteria (docs/batches.md, "Filters"): structured JSON, never SQL. Every criterion
given must hold; one left out (or null) does not narrow.

A student filter takes `grades`, `schoolIds` and `personIds`; a census filter `personIds`,
`staff`, `assignmentSchoolIds`, `students` and `messengerContacts`. A filter request is one of
the two, told apart by its `kind`.
"""

from datetime import date
from typing import Annotated, Any, ClassVar, Final, Literal

from pydantic import Field

from shared.core.contract import Body, Flag, Identifier, IsoDate, PlainText, Tagged, omitted
from shared.core.vocabulary import FilterKind

MAX_PERSON_IDS: Final = 100_000
MAX_SCHOOL_IDS: Final = 10_000
MAX_GRADES: Final = 100

Grade = Annotated[str, PlainText(16, blank="must not be empty")]
Name = Annotated[str, PlainText(200, blank="a filter needs a name")]
PersonIds = Annotated[list[Identifier], Field(max_length=MAX_PERSON_IDS)]
SchoolIds = Annotated[list[Identifier], Field(max_length=MAX_SCHOOL_IDS)]
Left = omitted()


class Criteria(Body):
    kind: ClassVar[FilterKind]

    def stored(self) -> dict[str, Any]:
        """As kept with the filter (and copied into each batch that uses it): the criteria
        given, each list without repeats."""
        given = self.model_dump(by_alias=True, exclude_none=True)
        return {
            key: list(dict.fromkeys(value)) if isinstance(value, list) else value
            for key, value in given.items()
        }

    @classmethod
    def unknown_key(cls, key: str) -> str:
        known = ", ".join(field.alias or name for name, field in cls.model_fields.items())
        return f"unknown criterion for a {cls.kind} filter; one of {known}"


class StudentCriteria(Criteria):
    """Students of the batch's scope with one current enrollment in these grades and schools,
    or these students."""

    kind = FilterKind.STUDENT
    grades: Annotated[list[Grade], Field(max_length=MAX_GRADES)] | None = Left
    school_ids: SchoolIds | None = Left
    person_ids: PersonIds | None = Left


class CensusCriteria(Criteria):
    """These people; staff or not; staff of these schools; students or not; messenger
    contacts or not."""

    kind = FilterKind.CENSUS
    person_ids: PersonIds | None = Left
    staff: Flag | None = Left
    assignment_school_ids: SchoolIds | None = Left
    students: Flag | None = Left
    messenger_contacts: Flag | None = Left


class StudentFilter(Body):
    not_an_object = "the request body must be a JSON object"

    name: Name
    kind: Literal["student"]
    criteria: StudentCriteria | None = None


class CensusFilter(Body):
    not_an_object = "the request body must be a JSON object"

    name: Name
    kind: Literal["census"]
    criteria: CensusCriteria | None = None


class FilterRequest(Tagged[Annotated[StudentFilter | CensusFilter, Field(discriminator="kind")]]):
    """A saved filter: a name, its kind, and criteria of that kind."""

    tag = "kind"

    @property
    def name(self) -> str:
        return self.root.name

    @property
    def kind(self) -> FilterKind:
        return FilterKind(self.root.kind)

    def stored_criteria(self) -> dict[str, Any]:
        """The criteria as kept with the filter."""
        criteria = self.root.criteria
        return criteria.stored() if criteria is not None else {}


CRITERIA_OF: Final[dict[FilterKind, type[StudentCriteria] | type[CensusCriteria]]] = {
    FilterKind.STUDENT: StudentCriteria,
    FilterKind.CENSUS: CensusCriteria,
}


class StudentPreview(Body):
    """Unsaved student criteria to preview, as of a date (default today)."""

    not_an_object = "the request body must be a JSON object"

    kind: Literal["student"]
    criteria: StudentCriteria | None = None
    as_of: IsoDate | None = None


class CensusPreview(Body):
    """Unsaved census criteria to preview, as of a date (default today)."""

    not_an_object = "the request body must be a JSON object"

    kind: Literal["census"]
    criteria: CensusCriteria | None = None
    as_of: IsoDate | None = None


class CriteriaPreviewRequest(
    Tagged[Annotated[StudentPreview | CensusPreview, Field(discriminator="kind")]]
):
    """Criteria of a kind, not saved: what the filter designer would save."""

    tag = "kind"

    @property
    def kind(self) -> FilterKind:
        return FilterKind(self.root.kind)

    @property
    def as_of(self) -> date | None:
        return self.root.as_of

    def stored_criteria(self) -> dict[str, Any]:
        criteria = self.root.criteria
        return criteria.stored() if criteria is not None else {}
