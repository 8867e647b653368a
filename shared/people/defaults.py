"""The district's default grid: the values an address gets when an import adds it where there
was none (`GET/PUT /api/v1/defaults`, the Defaults page). All off until someone sets it.

A reason the grid turns on is recorded as set by the import; one it leaves off is as never set
(shared.imports.native.preference_rows.ensure_rows). Setting the grid changes no existing
preference: it applies to addresses imported afterwards.
"""

from typing import Annotated, ClassVar, Final, Literal

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from shared.access.audit import record_audit
from shared.core.contract import Body, one_of
from shared.core.grids import TEXT_REFUSAL, ByChannel, ByReason
from shared.core.vocabulary import CHANNELS, REASON_BIT, REASONS, is_text_message_word
from shared.models import DefaultGrid, User

ACTION_UPDATE: Final = "defaults.update"

Value = Annotated[Literal["on", "off"], one_of("on", "off", message="{got} is not on or off")]


class DefaultReasons(Body):
    """A channel's default per reason; a reason left out is off."""

    not_an_object = "must be an object of reason: on or off"
    text_refusal: ClassVar[str] = TEXT_REFUSAL

    emergency: Value = "off"
    attendance: Value = "off"
    behavior: Value = "off"
    staff: Value = "off"
    general: Value = "off"
    food_service: Value = "off"
    priority: Value = "off"
    teacher: Value = "off"

    @classmethod
    def unknown_key(cls, key: str) -> str:
        if is_text_message_word(key):
            return TEXT_REFUSAL
        return f"unknown reason; one of {', '.join(REASONS)}"


class DefaultsRequest(Body):
    """The whole grid: a channel or reason left out is off."""

    not_an_object = "must be an object of channel: {reason: on or off}"

    household_phone: DefaultReasons | None = None
    home_phone: DefaultReasons | None = None
    work_phone: DefaultReasons | None = None
    cell_phone: DefaultReasons | None = None
    email: DefaultReasons | None = None
    secondary_email: DefaultReasons | None = None

    @classmethod
    def unknown_key(cls, key: str) -> str:
        if is_text_message_word(key):
            return TEXT_REFUSAL
        return f"unknown channel; one of {', '.join(CHANNELS)}"

    def masks(self) -> dict[int, int]:
        given = self.model_dump(by_alias=True, exclude_none=True)
        return {
            n: sum(REASON_BIT[r] for r, v in given.get(channel, {}).items() if v == "on")
            for n, channel in enumerate(CHANNELS)
        }


class DefaultValues(ByReason[Literal["on", "off"]]):
    pass


class DefaultsView(ByChannel[DefaultValues]):
    """Every channel and reason: on or off."""


def defaults_view(session: Session) -> DefaultsView:
    masks = {c: m for c, m in session.execute(select(DefaultGrid.channel, DefaultGrid.mask))}
    return DefaultsView.model_validate(
        {
            channel: {
                reason: "on" if masks.get(n, 0) & REASON_BIT[reason] else "off"
                for reason in REASONS
            }
            for n, channel in enumerate(CHANNELS)
        }
    )


def set_defaults(session: Session, request: DefaultsRequest, user: User | None) -> DefaultsView:
    """Replace the grid, and audit it with the grid set."""
    masks = request.masks()
    session.execute(delete(DefaultGrid))
    session.add_all(
        DefaultGrid(channel=n, mask=mask, updated_by=user.id if user else None)
        for n, mask in masks.items()
        if mask
    )
    session.flush()
    view = defaults_view(session)
    record_audit(
        session,
        username=user.username if user else None,
        action=ACTION_UPDATE,
        subject="defaults",
        detail={
            channel: [r for r in REASONS if masks[n] & REASON_BIT[r]]
            for n, channel in enumerate(CHANNELS)
        },
    )
    return view
