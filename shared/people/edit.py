"""One person's or one household's preferences, set by a guardian or a clerk: what
`PATCH .../preferences` and the person page do.

Every reason given `on` or `off` gets that value and the setter `guardian` or `staff`, even when
the value was already equal: the choice itself is recorded, so that a later batch with
keepGuardianChoices leaves it. Each channel's row is written by one UPDATE relative to its
current values; the UPDATE takes the row lock and, on PostgreSQL, waits for a batch chunk that
holds it and then applies to what the chunk committed, so neither overwrites the other's
reasons. Channels are written in channel order, the order a chunk locks them in. The caller
commits.
"""

from dataclasses import dataclass
from typing import Annotated, Final, Literal

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from shared.access.audit import record_audit
from shared.core.contract import Body, one_of
from shared.core.db import is_sqlite
from shared.core.errors import InvalidRequest, NotFound
from shared.core.grids import NO_CHANGE, Grid, ReasonOptions, full_grid
from shared.core.vocabulary import (
    ADDRESS_COLUMN,
    CHANNELS,
    HOUSEHOLD_PHONE,
    REASON_BIT,
    REASONS,
    SETTER_GUARDIAN,
    SETTER_STAFF,
    is_text_message_word,
)
from shared.models import Household, Person, preferences
from shared.models.preferences import SETTER_COLUMNS

SETTERS: Final = {"guardian": SETTER_GUARDIAN, "staff": SETTER_STAFF}
HOUSEHOLD_CHANNEL: Final = CHANNELS[HOUSEHOLD_PHONE]
EDIT_TEXT_REFUSAL: Final = "text-message (SMS) preferences cannot be set"
PERSON_ROUTE: Final = "PATCH /api/v1/people/<personId>/preferences"
HOUSEHOLD_ROUTE: Final = "PATCH /api/v1/households/<householdId>/preferences"


class EditReasonOptions(ReasonOptions):
    text_refusal = EDIT_TEXT_REFUSAL


class EditChanges(Body):
    """The options to record per channel and reason; anything left out is left as it is. A
    text-message (SMS) channel or reason, in any spelling, is refused."""

    not_an_object = "must be an object of channel: {reason: option}"

    @classmethod
    def unknown_key(cls, key: str) -> str:
        if is_text_message_word(key):
            return EDIT_TEXT_REFUSAL
        if key == HOUSEHOLD_CHANNEL:
            return f"{key} belongs to a household; use {HOUSEHOLD_ROUTE}"
        if key in CHANNELS:
            return (
                f"a household has only {HOUSEHOLD_CHANNEL}; set a person's {key} with "
                f"{PERSON_ROUTE}"
            )
        return f"unknown channel; one of {', '.join(CHANNELS)}"

    def chosen(self) -> Grid:
        """The reasons set on or off, per channel that has some, in vocabulary order."""
        grid = full_grid(self.model_dump(by_alias=True, exclude_none=True))
        chosen = {
            channel: {reason: option for reason, option in options.items() if option != NO_CHANGE}
            for channel, options in grid.items()
        }
        return {channel: options for channel, options in chosen.items() if options}


class PersonChanges(EditChanges):
    """A person's channels (the household phone is the household's)."""

    home_phone: EditReasonOptions | None = None
    work_phone: EditReasonOptions | None = None
    cell_phone: EditReasonOptions | None = None
    email: EditReasonOptions | None = None
    secondary_email: EditReasonOptions | None = None


class HouseholdChanges(EditChanges):
    """A household's one channel, its phone."""

    household_phone: EditReasonOptions | None = None


SetBy = Annotated[Literal["guardian", "staff"], one_of(*SETTERS)]


class PersonEdit(Body):
    """Who sets (a guardian, or a clerk: staff) and the options per channel and reason. Every
    reason set on or off gets the value and the setter, even when the value was already equal;
    a channel without an address is refused."""

    not_an_object = "the request body must be a JSON object"

    set_by: SetBy
    changes: PersonChanges | None = None


class HouseholdEdit(Body):
    """The same for a household phone."""

    not_an_object = "the request body must be a JSON object"

    set_by: SetBy
    changes: HouseholdChanges | None = None


@dataclass(frozen=True)
class Edit:
    """A validated payload: who sets, and the on/off options only (channel and reason order)."""

    set_by: str
    changes: Grid

    @property
    def setter(self) -> int:
        return SETTERS[self.set_by]


def edit_person_preferences(
    session: Session, person_ext_id: str, request: PersonEdit, *, username: str | None
) -> None:
    edit = parse_edit(request)
    person = session.scalars(select(Person).where(Person.ext_id == person_ext_id)).one_or_none()
    if person is None:
        raise NotFound(f"no person {person_ext_id!r}")
    for channel in edit.changes:
        if not getattr(person, ADDRESS_COLUMN[channel]):
            raise InvalidRequest(
                f"person {person.ext_id} has no {channel}", field=f"changes.{channel}"
            )
    _write(session, person.id, edit)
    _audit(session, username, f"person:{person.ext_id}", edit)


def edit_household_preferences(
    session: Session, household_ext_id: str, request: HouseholdEdit, *, username: str | None
) -> None:
    edit = parse_edit(request)
    household = session.scalars(
        select(Household).where(Household.ext_id == household_ext_id)
    ).one_or_none()
    if household is None:
        raise NotFound(f"no household {household_ext_id!r}")
    if not household.phone:
        raise InvalidRequest(
            f"household {household.ext_id} has no {HOUSEHOLD_CHANNEL}",
            field=f"changes.{HOUSEHOLD_CHANNEL}",
        )
    _write(session, household.id, edit)
    _audit(session, username, f"household:{household.ext_id}", edit)


def parse_edit(edit: PersonEdit | HouseholdEdit) -> Edit:
    """The edit, if it sets at least one reason on or off."""
    changes = edit.changes.chosen() if edit.changes is not None else {}
    if not changes:
        raise InvalidRequest(
            "nothing to change: set at least one reason to on or off", field="changes"
        )
    return Edit(edit.set_by, changes)


def _write(session: Session, subject_id: int, edit: Edit) -> None:
    for channel, options in edit.changes.items():
        index = CHANNELS.index(channel)
        _ensure_row(session, subject_id, index)
        set_mask = sum(REASON_BIT[reason] for reason in options)
        on_mask = sum(REASON_BIT[reason] for reason, option in options.items() if option == "on")
        mask = preferences.c.mask
        session.execute(
            update(preferences)
            .where(preferences.c.subject_id == subject_id, preferences.c.channel == index)
            .values(
                mask=mask - (mask.op("&")(set_mask)) + on_mask,
                **{
                    column: edit.setter
                    for reason, column in zip(REASONS, SETTER_COLUMNS, strict=True)
                    if reason in options
                },
            )
        )


def _ensure_row(session: Session, subject_id: int, channel: int) -> None:
    """The row, all off and set by default, unless it exists (or another edit just made it)."""
    insert = sqlite_insert if is_sqlite(session) else postgresql_insert
    row = {"subject_id": subject_id, "channel": channel, "mask": 0}
    row.update(dict.fromkeys(SETTER_COLUMNS, 0))
    session.execute(insert(preferences).values(row).on_conflict_do_nothing())


def _audit(session: Session, username: str | None, subject: str, edit: Edit) -> None:
    record_audit(
        session,
        username=username,
        action="preferences.edit",
        subject=subject,
        detail={"setBy": edit.set_by, "changes": edit.changes},
    )
