"""One person's or one household's preferences, set by a guardian or a clerk (SPEC sections 5
and 10): what `PATCH .../preferences` and the person page do.

Every reason given `on` or `off` gets that value and the setter `guardian` or `staff`, even when
the value was already equal: the choice itself is recorded, so that a later batch with
keepGuardianChoices leaves it. Each channel's row is written by one UPDATE relative to its
current values; the UPDATE takes the row lock and, on PostgreSQL, waits for a batch chunk that
holds it and then applies to what the chunk committed, so neither overwrites the other's
reasons. Channels are written in channel order, the order a chunk locks them in. The caller
commits.
"""

from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from shared.access.accounts import record_audit
from shared.batches.request import TEXT_REFUSAL, Changes, parse_changes
from shared.core.db import is_sqlite
from shared.core.errors import InvalidRequest, NotFound
from shared.core.request_shape import object_with_fields
from shared.core.vocabulary import (
    ADDRESS_COLUMN,
    CHANNELS,
    HOUSEHOLD_PHONE,
    REASON_BIT,
    REASONS,
    SETTER_GUARDIAN,
    SETTER_STAFF,
)
from shared.models import Household, Person, preferences
from shared.models.preferences import SETTER_COLUMNS

PAYLOAD_FIELDS: Final = frozenset({"setBy", "changes"})
SETTERS: Final = {"guardian": SETTER_GUARDIAN, "staff": SETTER_STAFF}
HOUSEHOLD_CHANNEL: Final = CHANNELS[HOUSEHOLD_PHONE]
EDIT_TEXT_REFUSAL: Final = "text-message (SMS) preferences cannot be set"


@dataclass(frozen=True)
class Edit:
    """A validated payload: who sets, and the on/off options only (channel and reason order)."""

    set_by: str
    changes: Changes

    @property
    def setter(self) -> int:
        return SETTERS[self.set_by]


def edit_person_preferences(
    session: Session, person_ext_id: str, payload: Any, *, username: str | None
) -> None:
    edit = parse_edit(payload, household=False)
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
    session: Session, household_ext_id: str, payload: Any, *, username: str | None
) -> None:
    edit = parse_edit(payload, household=True)
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


def parse_edit(payload: Any, *, household: bool) -> Edit:
    """The payload's shape: `{setBy, changes}` naming only the subject's channels, with at
    least one reason set on or off."""
    payload = object_with_fields(payload, PAYLOAD_FIELDS)
    set_by = payload.get("setBy")
    if set_by not in SETTERS:
        raise InvalidRequest(f"must be one of {', '.join(SETTERS)}; got {set_by!r}", "setBy")
    raw = payload.get("changes")
    try:
        parsed = parse_changes(raw)
    except InvalidRequest as error:
        if error.message != TEXT_REFUSAL:
            raise
        # The batch's wording says "by a batch"; nothing else sets them either.
        raise InvalidRequest(EDIT_TEXT_REFUSAL, field=error.field) from None
    for channel in raw or {}:
        if (channel == HOUSEHOLD_CHANNEL) != household:
            raise InvalidRequest(_misplaced(channel), field=f"changes.{channel}")
    changes = {
        channel: {reason: option for reason, option in options.items() if option != "noChange"}
        for channel, options in parsed.items()
    }
    changes = {channel: options for channel, options in changes.items() if options}
    if not changes:
        raise InvalidRequest(
            "nothing to change: set at least one reason to on or off", field="changes"
        )
    return Edit(set_by, changes)


def _misplaced(channel: str) -> str:
    if channel == HOUSEHOLD_CHANNEL:
        return (
            f"{channel} belongs to a household; "
            "use PATCH /api/v1/households/<householdId>/preferences"
        )
    return (
        f"a household has only {HOUSEHOLD_CHANNEL}; "
        f"set a person's {channel} with PATCH /api/v1/people/<personId>/preferences"
    )


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
