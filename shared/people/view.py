"""One person's preferences, as `GET /api/v1/people/<personId>/preferences` shows them, and one
household's, as `PATCH /api/v1/households/<householdId>/preferences` answers.

Every personal channel is listed, with its address (None when there is none) and the stored
values; a channel with no preference row shows every reason off, set by default. Households
are listed once per membership, with its dates, so that the caller judges what is active.
"""

from collections.abc import Sequence
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.core.contract import View, omitted
from shared.core.errors import NotFound
from shared.core.grids import ByPersonalChannel, ByReason
from shared.core.vocabulary import (
    ADDRESS_COLUMN,
    CHANNELS,
    HOUSEHOLD_PHONE,
    PERSONAL_CHANNELS,
    REASONS,
    SETTER_DEFAULT,
    setter_name,
)
from shared.models import Household, HouseholdMember, Person, QuarantinedAddress, preferences
from shared.models.preferences import SETTER_COLUMNS

Stored = tuple[int, tuple[int, ...]]  # mask, setters
NEVER_SET: Stored = (0, (SETTER_DEFAULT,) * len(REASONS))


class ReasonValues(ByReason[bool]):
    """Per reason: on (true) or off (false)."""


class ReasonSetters(ByReason[str]):
    """Per reason, who set the value last: default, import, guardian, staff or batch:<id>."""


class QuarantinedView(View):
    """The address the last import gave this channel and quarantined (it was imported as no
    address, and a stored address stayed): what it was, why, and where it came from."""

    value: str
    why: str
    source: str


class ChannelPreferences(View):
    address: str | None  # None: the person has no address on this channel
    values: ReasonValues
    setters: ReasonSetters
    quarantined: QuarantinedView | None = omitted()


class PersonChannels(ByPersonalChannel[ChannelPreferences]):
    pass


class HouseholdPreferences(View):
    household_id: str
    name: str
    phone: str | None
    values: ReasonValues
    setters: ReasonSetters
    quarantined: QuarantinedView | None = omitted()


class HouseholdMembership(HouseholdPreferences):
    """A household the person is (or was) a member of, with the membership's dates."""

    start_date: date | None
    end_date: date | None


class PersonPreferences(View):
    person_id: str
    first_name: str
    last_name: str
    channels: PersonChannels
    households: list[HouseholdMembership]


def person_preferences(session: Session, ext_id: str) -> PersonPreferences:
    person = session.scalars(select(Person).where(Person.ext_id == ext_id)).one_or_none()
    if person is None:
        raise NotFound(f"no person {ext_id!r}")
    stored = _stored(session, [person.id], personal=True)
    held = _quarantined(session, person.id, PERSONAL_CHANNELS)
    channels = {}
    for channel in PERSONAL_CHANNELS:
        name = CHANNELS[channel]
        address = getattr(person, ADDRESS_COLUMN[name]) or None
        values, setters = _reasons(stored.get((person.id, channel)))
        channels[name] = ChannelPreferences(
            address=address, values=values, setters=setters, quarantined=held.get(channel)
        )
    return PersonPreferences(
        person_id=person.ext_id,
        first_name=person.first_name,
        last_name=person.last_name,
        channels=PersonChannels.model_validate(channels),
        households=_households(session, person.id),
    )


def household_preferences(session: Session, ext_id: str) -> HouseholdPreferences:
    household = session.scalars(select(Household).where(Household.ext_id == ext_id)).one_or_none()
    if household is None:
        raise NotFound(f"no household {ext_id!r}")
    stored = _stored(session, [household.id], personal=False)
    values, setters = _reasons(stored.get((household.id, HOUSEHOLD_PHONE)))
    return HouseholdPreferences(
        household_id=household.ext_id,
        name=household.name,
        phone=household.phone or None,
        values=values,
        setters=setters,
        quarantined=_quarantined(session, household.id, [HOUSEHOLD_PHONE]).get(HOUSEHOLD_PHONE),
    )


def _quarantined(
    session: Session, subject_id: int, channels: Sequence[int]
) -> dict[int, QuarantinedView]:
    rows = session.execute(
        select(
            QuarantinedAddress.channel,
            QuarantinedAddress.value,
            QuarantinedAddress.why,
            QuarantinedAddress.source,
        ).where(
            QuarantinedAddress.subject_id == subject_id,
            QuarantinedAddress.channel.in_(channels),
        )
    )
    return {
        channel: QuarantinedView(value=value, why=why, source=source)
        for channel, value, why, source in rows
    }


def _households(session: Session, person_id: int) -> list[HouseholdMembership]:
    memberships = session.execute(
        select(
            Household.id,
            Household.ext_id,
            Household.name,
            Household.phone,
            HouseholdMember.start_date,
            HouseholdMember.end_date,
        )
        .join(HouseholdMember, HouseholdMember.household_id == Household.id)
        .where(HouseholdMember.person_id == person_id)
    ).all()
    stored = _stored(session, [m.id for m in memberships], personal=False)
    listed = []
    for m in memberships:
        values, setters = _reasons(stored.get((m.id, HOUSEHOLD_PHONE)))
        listed.append(
            HouseholdMembership(
                household_id=m.ext_id,
                name=m.name,
                phone=m.phone or None,
                values=values,
                setters=setters,
                start_date=m.start_date,
                end_date=m.end_date,
            )
        )
    listed.sort(key=lambda h: (h.household_id, h.start_date or date.min))
    return listed


def _stored(
    session: Session, subject_ids: list[int], personal: bool
) -> dict[tuple[int, int], Stored]:
    if not subject_ids:
        return {}
    channel = preferences.c.channel
    rows = session.execute(
        select(
            preferences.c.subject_id,
            channel,
            preferences.c.mask,
            *(preferences.c[name] for name in SETTER_COLUMNS),
        ).where(
            preferences.c.subject_id.in_(subject_ids),
            channel != HOUSEHOLD_PHONE if personal else channel == HOUSEHOLD_PHONE,
        )
    )
    return {(s, c): (mask, tuple(setters)) for s, c, mask, *setters in rows}


def _reasons(stored: Stored | None) -> tuple[ReasonValues, ReasonSetters]:
    mask, setters = stored or NEVER_SET
    values = {reason: bool(mask >> k & 1) for k, reason in enumerate(REASONS)}
    names = {reason: setter_name(s) for reason, s in zip(REASONS, setters, strict=True)}
    return ReasonValues.model_validate(values), ReasonSetters.model_validate(names)
