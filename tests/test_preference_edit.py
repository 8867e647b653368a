"""Editing one person's or one household's preferences, refused on SQLite and PostgreSQL: a bad
edit names the field and writes nothing (no value, no setter, no audit entry), and an unknown
person or household is not found."""

from typing import Any

import pytest
from sqlalchemy import select

from shared.core.db import SessionFactory
from shared.core.errors import InvalidRequest, NotFound
from shared.models import AuditEntry, preferences
from shared.people.edit import edit_household_preferences, edit_person_preferences
from tests.support.driver import household_edit, person_edit
from tests.support.preference_edit import edit_household, edit_person
from tests.support.preference_edit import family as family  # the fixture, for pytest to find here


def snapshot(factory: SessionFactory) -> tuple[list[tuple[Any, ...]], int]:
    """Every preference row, and how many audit entries there are."""
    with factory() as session:
        rows = session.execute(select(preferences).order_by(*preferences.primary_key)).all()
        audits = len(session.scalars(select(AuditEntry.id)).all())
        return [tuple(row) for row in rows], audits


ON = {"email": {"emergency": "on"}}
NOTHING = "nothing to change: set at least one reason to on or off"
TO_HOUSEHOLDS = (
    "householdPhone belongs to a household; use PATCH /api/v1/households/<householdId>/preferences"
)
CHANNEL_LIST = "householdPhone, homePhone, workPhone, cellPhone, email, secondaryEmail"
REASON_LIST = "emergency, attendance, behavior, staff, general, foodService, priority, teacher"


@pytest.mark.parametrize(
    ("person", "payload", "message", "field"),
    [
        ("P-1", [], "the request body must be a JSON object", None),
        ("P-1", {"setBy": "guardian", "changes": ON, "why": "x"}, "unknown field 'why'", "why"),
        ("P-1", {"changes": ON}, "is required", "setBy"),
        ("P-1", {"setBy": "parent", "changes": ON}, "must be one of guardian, staff; got 'parent'",
         "setBy"),
        ("P-1", {"setBy": "staff", "changes": []},
         "must be an object of channel: {reason: option}", "changes"),
        ("P-1", {"setBy": "staff", "changes": {"fax": {"emergency": "on"}}},
         f"unknown channel; one of {CHANNEL_LIST}", "changes.fax"),
        ("P-1", {"setBy": "staff", "changes": {"email": "on"}},
         "must be an object of reason: option", "changes.email"),
        ("P-1", {"setBy": "staff", "changes": {"email": {"emergencies": "on"}}},
         f"unknown reason; one of {REASON_LIST}", "changes.email.emergencies"),
        ("P-1", {"setBy": "staff", "changes": {"email": {"emergency": "yes"}}},
         "unknown option 'yes'; one of noChange, on, off", "changes.email.emergency"),
        ("P-1", {"setBy": "staff", "changes": {"SMS": {"emergency": "on"}}},
         "text-message (SMS) preferences cannot be set", "changes.SMS"),
        ("P-1", {"setBy": "staff", "changes": {"cellPhone": {"textMessage": "on"}}},
         "text-message (SMS) preferences cannot be set", "changes.cellPhone.textMessage"),
        ("P-1", {"setBy": "staff"}, NOTHING, "changes"),
        ("P-1", {"setBy": "staff", "changes": {"email": {"emergency": "noChange"}}}, NOTHING,
         "changes"),
        ("P-1", {"setBy": "staff", "changes": {"householdPhone": {"emergency": "on"}}},
         TO_HOUSEHOLDS, "changes.householdPhone"),
        ("P-1", {"setBy": "staff", "changes": {**ON, "householdPhone": {"general": "noChange"}}},
         TO_HOUSEHOLDS, "changes.householdPhone"),
        ("P-1", {"setBy": "staff", "changes": {"homePhone": {"emergency": "on"}}},
         "person P-1 has no homePhone", "changes.homePhone"),
        # Nothing is written, the email (checked first) included, when a channel has no address.
        ("P-1", {"setBy": "staff", "changes": {**ON, "secondaryEmail": {"emergency": "on"}}},
         "person P-1 has no secondaryEmail", "changes.secondaryEmail"),
        ("P-2", {"setBy": "guardian", "changes": {"cellPhone": {"teacher": "off"}}},
         "person P-2 has no cellPhone", "changes.cellPhone"),
    ],
)  # fmt: skip
def test_a_bad_person_edit_names_the_field_and_writes_nothing(
    family: SessionFactory, person: str, payload: Any, message: str, field: str | None
):
    before = snapshot(family)
    with family.begin() as session:  # commits whatever the service may have written
        with pytest.raises(InvalidRequest) as caught:
            edit_person_preferences(session, person, person_edit(payload), username="clerk")
    assert (caught.value.message, caught.value.field) == (message, field)
    assert snapshot(family) == before


@pytest.mark.parametrize(
    ("household", "payload", "message", "field"),
    [
        ("H-1", {"setBy": "staff", "changes": {"email": {"emergency": "on"}}},
         "a household has only householdPhone; set a person's email with "
         "PATCH /api/v1/people/<personId>/preferences", "changes.email"),
        ("H-1", {"setBy": "staff", "changes": {"householdPhone": {}}}, NOTHING, "changes"),
        ("H-2", {"setBy": "guardian", "changes": {"householdPhone": {"emergency": "on"}}},
         "household H-2 has no householdPhone", "changes.householdPhone"),
    ],
)  # fmt: skip
def test_a_bad_household_edit_names_the_field_and_writes_nothing(
    family: SessionFactory, household: str, payload: Any, message: str, field: str
):
    before = snapshot(family)
    with family.begin() as session:
        with pytest.raises(InvalidRequest) as caught:
            edit_household_preferences(
                session, household, household_edit(payload), username="clerk"
            )
    assert (caught.value.message, caught.value.field) == (message, field)
    assert snapshot(family) == before


def test_unknown_subjects_are_not_found(family: SessionFactory):
    payload = {"setBy": "guardian", "changes": ON}
    with pytest.raises(NotFound, match=r"^no person 'P-9'$"):
        edit_person(family, "P-9", payload)
    household_payload = {"setBy": "guardian", "changes": {"householdPhone": {"emergency": "on"}}}
    with pytest.raises(NotFound, match=r"^no household 'H-9'$"):
        edit_household(family, "H-9", household_payload)
