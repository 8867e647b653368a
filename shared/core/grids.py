"""Grids of channels by contact reasons: the options a request gives (`ChangesRequest`), and the
shapes views show per reason and per channel (counts, values, setters).

The fields are written out, in the vocabulary's order, so that the OpenAPI document names every
channel and reason; a unit test keeps them equal to `CHANNELS` and `REASONS`.
"""

from typing import Annotated, Any, ClassVar, Final, Generic, Literal, TypeVar

from pydantic.alias_generators import to_snake

from shared.core.contract import Body, View, one_of
from shared.core.vocabulary import CHANNELS, OPTIONS, REASONS, is_text_message_word

TEXT_REFUSAL: Final = "text-message (SMS) preferences can never be set by a batch"
NO_CHANGE: Final = "noChange"

Option = Annotated[
    Literal["noChange", "on", "off"],
    one_of(*OPTIONS, message="unknown option {got}; one of {allowed}"),
]
# Every channel and reason, in vocabulary order, each with its option.
Grid = dict[str, dict[str, str]]
T = TypeVar("T")


class ReasonOptions(Body):
    """A channel's option per reason; a reason left out is noChange."""

    not_an_object = "must be an object of reason: option"
    text_refusal: ClassVar[str] = TEXT_REFUSAL

    emergency: Option = NO_CHANGE
    attendance: Option = NO_CHANGE
    behavior: Option = NO_CHANGE
    staff: Option = NO_CHANGE
    general: Option = NO_CHANGE
    food_service: Option = NO_CHANGE
    priority: Option = NO_CHANGE
    teacher: Option = NO_CHANGE

    @classmethod
    def unknown_key(cls, key: str) -> str:
        if is_text_message_word(key):
            return cls.text_refusal
        return f"unknown reason; one of {', '.join(REASONS)}"


class ChangesRequest(Body):
    """The option per channel and reason; anything left out is noChange. A text-message (SMS)
    channel or reason, in any spelling, is refused: a recipient may be charged for texts."""

    not_an_object = "must be an object of channel: {reason: option}"

    household_phone: ReasonOptions | None = None
    home_phone: ReasonOptions | None = None
    work_phone: ReasonOptions | None = None
    cell_phone: ReasonOptions | None = None
    email: ReasonOptions | None = None
    secondary_email: ReasonOptions | None = None

    @classmethod
    def unknown_key(cls, key: str) -> str:
        if is_text_message_word(key):
            return TEXT_REFUSAL
        return f"unknown channel; one of {', '.join(CHANNELS)}"

    def grid(self) -> Grid:
        """Every channel and reason with its option, in vocabulary order."""
        given = self.model_dump(by_alias=True, exclude_none=True)
        return full_grid(given)


def full_grid(given: dict[str, dict[str, str]]) -> Grid:
    """Every channel and reason, with `given`'s option where it has one, else noChange."""
    return {
        channel: {reason: given.get(channel, {}).get(reason, NO_CHANGE) for reason in REASONS}
        for channel in CHANNELS
    }


def changes_anything(grid: Grid) -> bool:
    return any(option != NO_CHANGE for options in grid.values() for option in options.values())


class ByName(View):
    """A view whose fields can also be read by their camelCase names: `counts["cellPhone"]`."""

    def __getitem__(self, name: str) -> Any:
        return getattr(self, to_snake(name))

    def items(self) -> list[tuple[str, Any]]:
        """(camelCase name, value) pairs, in field order."""
        fields = type(self).model_fields.items()
        return [(field.alias or name, getattr(self, name)) for name, field in fields]


class ByReason(ByName, Generic[T]):
    emergency: T
    attendance: T
    behavior: T
    staff: T
    general: T
    food_service: T
    priority: T
    teacher: T


class ByChannel(ByName, Generic[T]):
    household_phone: T
    home_phone: T
    work_phone: T
    cell_phone: T
    email: T
    secondary_email: T


class ByPersonalChannel(ByName, Generic[T]):
    home_phone: T
    work_phone: T
    cell_phone: T
    email: T
    secondary_email: T


class ReasonCounts(ByReason[int | None]):
    """Per reason: null where the option was noChange, else a number of values."""


class Counts(ByChannel[ReasonCounts]):
    """Per channel and reason: null where the option was noChange, else a number of values."""


class ReasonChoices(ByReason[Literal["noChange", "on", "off"]]):
    pass


class Changes(ByChannel[ReasonChoices]):
    """The option of every channel and reason."""
