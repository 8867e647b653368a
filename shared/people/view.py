"""One person's preferences, as `GET /api/v1/people/<personId>/preferences` shows them, and one
household's, as `PATCH /api/v1/households/<householdId>/preferences` answers.

Every personal channel is listed, with its address (None when there is none) and the stored
values; a channel with no preference row shows every reason off, set by default. Households
are listed once per membership, with its dates, so that the caller judges what is active.
"""

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.core.errors import NotFound
from shared.core.vocabulary import (
    ADDRESS_COLUMN,
    CHANNELS,
    HOUSEHOLD_PHONE,
    PERSONAL_CHANNELS,
    REASONS,
    SETTER_DEFAULT,
    setter_name,
)
from shared.models import Household, HouseholdMember, Person, preferences
from shared.models.preferences import SETTER_COLUMNS

Stored = tuple[int, tuple[int, ...]]  # mask, setters
NEVER_SET: Stored = (0, (SETTER_DEFAULT,) * len(REASONS))


def person_preferences(session: Session, ext_id: str) -> dict[str, Any]:
    person = session.scalars(select(Person).where(Person.ext_id == ext_id)).one_or_none()
    if person is None:
        raise NotFound(f"no person {ext_id!r}")
    stored = _stored(session, [person.id], personal=True)
    channels = {}
    for channel in PERSONAL_CHANNELS:
        name = CHANNELS[channel]
        address = getattr(person, ADDRESS_COLUMN[name]) or None
        channels[name] = {"address": address, **_reasons(stored.get((person.id, channel)))}
    return {
        "personId": person.ext_id,
        "firstName": person.first_name,
        "lastName": person.last_name,
        "channels": channels,
        "households": _households(session, person.id),
    }


def household_preferences(session: Session, ext_id: str) -> dict[str, Any]:
    household = session.scalars(select(Household).where(Household.ext_id == ext_id)).one_or_none()
    if household is None:
        raise NotFound(f"no household {ext_id!r}")
    stored = _stored(session, [household.id], personal=False)
    return {
        "householdId": household.ext_id,
        "name": household.name,
        "phone": household.phone or None,
        **_reasons(stored.get((household.id, HOUSEHOLD_PHONE))),
    }


def _households(session: Session, person_id: int) -> list[dict[str, Any]]:
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
    listed = [
        {
            "householdId": m.ext_id,
            "name": m.name,
            "phone": m.phone or None,
            "startDate": _iso(m.start_date),
            "endDate": _iso(m.end_date),
            **_reasons(stored.get((m.id, HOUSEHOLD_PHONE))),
        }
        for m in memberships
    ]
    listed.sort(key=lambda h: (h["householdId"], h["startDate"] or ""))
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


def _reasons(stored: Stored | None) -> dict[str, dict[str, Any]]:
    mask, setters = stored or NEVER_SET
    return {
        "values": {reason: bool(mask >> k & 1) for k, reason in enumerate(REASONS)},
        "setters": {reason: setter_name(s) for reason, s in zip(REASONS, setters, strict=True)},
    }


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day is not None else None
