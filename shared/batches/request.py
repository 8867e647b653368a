"""A batch request, as `POST /api/v1/batches` and the wizard send it (docs/batches.md).

Parsing checks everything a request holds on its own; `submit.submit_batch` checks what needs
the database (the calendar, school and filter exist, and the user may use them). Every error names
the field it is about.
"""

from dataclasses import dataclass
from typing import Annotated, Any, Self

from pydantic import model_validator
from pydantic_core import PydanticCustomError

from shared.core.contract import Body, Flag, Id, Identifier, IsoDate, SchoolYear, one_of, parse
from shared.core.errors import InvalidRequest
from shared.core.grids import ChangesRequest, Grid, changes_anything
from shared.core.vocabulary import MODES, Mode

NO_SCOPE = "give a calendarId, a schoolId with a schoolYear, or a schoolYear"


@dataclass(frozen=True)
class Scope:
    """Where a student-mode batch looks for students: one calendar, a school's calendars of a
    school year, or every calendar of a school year."""

    school_year: str | None = None
    school_id: str | None = None
    calendar_id: str | None = None

    @property
    def empty(self) -> bool:
        return self.school_year is None and self.school_id is None and self.calendar_id is None


class ScopeRequest(Body):
    school_year: SchoolYear | None = None
    school_id: Identifier | None = None
    calendar_id: Identifier | None = None

    @classmethod
    def unknown_key(cls, key: str) -> str:
        return "unknown field; one of schoolYear, schoolId, calendarId"

    def scope(self) -> Scope:
        return Scope(self.school_year, self.school_id, self.calendar_id)


class BatchTemplate(Body):
    """Who (mode, scope, filter), what to set, and whether to keep guardians' own choices: a
    batch request without its date and dry-run switch, as a schedule keeps it. A census request
    names a census filter and no scope; the other modes name a scope (a calendarId, or a
    schoolYear with or without a schoolId) and may name a student filter. At least one option
    must be on or off."""

    not_an_object = "the template must be a JSON object"

    mode: Annotated[Mode, one_of(*MODES)]
    filter_id: Id | None = None
    scope: ScopeRequest | None = None
    changes: ChangesRequest | None = None
    keep_guardian_choices: Flag | None = None

    @classmethod
    def unknown_key(cls, key: str) -> str:
        if key in ("asOf", "dryRun"):
            return f"a template takes no {key}: each run is as of its own local date, for real"
        return super().unknown_key(key)

    @model_validator(mode="after")
    def _complete(self) -> Self:
        given = self.scope.scope() if self.scope is not None else Scope()
        if self.mode == Mode.CENSUS:
            if self.filter_id is None:
                raise _refusal("filterId", "Census/Staff mode needs a census filter")
            if not given.empty:
                raise _refusal(
                    "scope", "Census/Staff mode takes no scope: its census filter says who"
                )
        elif given.calendar_id is None and given.school_year is None:
            raise _refusal("scope.schoolYear" if given.school_id else "scope", NO_SCOPE)
        if not changes_anything(self.grid):
            raise _refusal(
                "changes", "nothing to change: set at least one reason of a channel to on or off"
            )
        return self

    @property
    def target_scope(self) -> Scope | None:
        """The scope of a student mode; None in census mode."""
        if self.mode == Mode.CENSUS or self.scope is None:
            return None
        return self.scope.scope()

    @property
    def grid(self) -> Grid:
        return (self.changes or ChangesRequest()).grid()

    @property
    def keeps_guardian_choices(self) -> bool:
        return bool(self.keep_guardian_choices)

    def stored(self) -> dict[str, Any]:
        """The template as the API writes it, for a schedule to keep."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


class BatchRequest(BatchTemplate):
    """A template, as of a date (default today), possibly a dry run."""

    not_an_object = "the request body must be a JSON object"

    as_of: IsoDate | None = None
    dry_run: Flag | None = None

    @classmethod
    def unknown_key(cls, key: str) -> str:
        return f"unknown field {key!r}"

    @property
    def is_dry_run(self) -> bool:
        return bool(self.dry_run)


def parse_batch_request(payload: Any) -> BatchRequest:
    if not isinstance(payload, dict):
        raise InvalidRequest(BatchRequest.not_an_object, field="body")
    return parse(BatchRequest, payload)


def _refusal(field: str, message: str) -> PydanticCustomError:
    return PydanticCustomError("batch_request", message, {"at": field})
