"""Editing one person's or one household's preferences on SQLite and PostgreSQL: the values and
setters written (the setter even where the value was already equal), a missing preference row
created, and the audit entry."""

from sqlalchemy import delete, select, text

from shared.core.db import SessionFactory
from shared.core.vocabulary import CHANNELS, REASONS
from shared.models import AuditEntry, preferences
from shared.models.preferences import SETTER_COLUMNS
from shared.people.view import household_preferences
from tests.support.driver import as_json
from tests.support.preference_edit import edit_household, edit_person, person_channel, reasons
from tests.support.preference_edit import family as family  # the fixture, for pytest to find here

EMAIL = CHANNELS.index("email")


def test_an_edit_sets_the_values_and_the_setter(family: SessionFactory):
    edit_person(
        family,
        "P-1",
        {
            "setBy": "staff",
            "changes": {
                "email": {"emergency": "off", "attendance": "on", "behavior": "noChange"},
                "cellPhone": {"teacher": "on"},
            },
        },
    )

    assert person_channel(family, "P-1", "email") == {
        "address": "ana@example.org",
        **reasons(
            ("attendance", "priority"),
            emergency="staff",
            attendance="staff",
            priority="guardian",
        ),
    }
    cell = reasons(("teacher",), **dict.fromkeys(REASONS, "default"))
    cell["setters"]["teacher"] = "staff"
    assert person_channel(family, "P-1", "cellPhone") == {"address": "555-0101", **cell}
    assert person_channel(family, "P-1", "homePhone")["setters"] == dict.fromkeys(
        REASONS, "default"
    )


def test_the_setter_is_recorded_even_when_the_value_is_already_equal(family: SessionFactory):
    # emergency is on already, attendance off already, priority on and set by a guardian.
    changes = {"email": {"emergency": "on", "attendance": "off", "priority": "on"}}
    edit_person(family, "P-1", {"setBy": "staff", "changes": changes})

    assert person_channel(family, "P-1", "email") == {
        "address": "ana@example.org",
        **reasons(
            ("emergency", "priority"), emergency="staff", attendance="staff", priority="staff"
        ),
    }

    edit_person(family, "P-1", {"setBy": "guardian", "changes": {"email": {"emergency": "on"}}})
    assert person_channel(family, "P-1", "email")["setters"]["emergency"] == "guardian"


def test_a_missing_preference_row_is_created(family: SessionFactory):
    with family.begin() as session:
        p1 = session.scalar(text("SELECT id FROM people WHERE ext_id = 'P-1'"))
        session.execute(
            delete(preferences).where(
                preferences.c.subject_id == p1, preferences.c.channel == EMAIL
            )
        )
    edit_person(family, "P-1", {"setBy": "guardian", "changes": {"email": {"general": "on"}}})

    with family() as session:
        row = session.execute(
            select(preferences).where(
                preferences.c.subject_id == p1, preferences.c.channel == EMAIL
            )
        ).one()
    setters = dict.fromkeys(SETTER_COLUMNS, 0) | {"setter_general": -2}
    assert row._asdict() == {"subject_id": p1, "channel": EMAIL, "mask": 16, **setters}


def test_a_household_edit(family: SessionFactory):
    edit_household(
        family,
        "H-1",
        {
            "setBy": "guardian",
            "changes": {"householdPhone": {"emergency": "off", "foodService": "on"}},
        },
    )

    with family() as session:
        assert as_json(household_preferences(session, "H-1")) == {
            "householdId": "H-1",
            "name": "Household H-1",
            "phone": "555-0100",
            **reasons(("foodService",), emergency="guardian", foodService="guardian"),
        }
        assert as_json(household_preferences(session, "H-2")) == {
            "householdId": "H-2",
            "name": "Household H-2",
            "phone": None,
            **reasons((), **dict.fromkeys(REASONS, "default")),
        }


def test_an_edit_is_audited(family: SessionFactory):
    edit_person(
        family,
        "P-1",
        {
            "setBy": "guardian",
            "changes": {
                "cellPhone": {"teacher": "on", "emergency": "noChange"},
                "email": {"priority": "off", "emergency": "on"},
                "workPhone": {"staff": "noChange"},
            },
        },
    )
    edit_household(
        family, "H-1", {"setBy": "staff", "changes": {"householdPhone": {"general": "off"}}}
    )

    with family() as session:
        entries = session.execute(
            select(
                AuditEntry.username, AuditEntry.action, AuditEntry.subject, AuditEntry.detail
            ).order_by(AuditEntry.id)
        ).all()
    assert [tuple(entry) for entry in entries] == [
        (
            "clerk",
            "preferences.edit",
            "person:P-1",
            {
                "setBy": "guardian",
                "changes": {
                    "cellPhone": {"teacher": "on"},
                    "email": {"emergency": "on", "priority": "off"},
                },
            },
        ),
        (
            "clerk",
            "preferences.edit",
            "household:H-1",
            {"setBy": "staff", "changes": {"householdPhone": {"general": "off"}}},
        ),
    ]
    # Channels and reasons in vocabulary order, whatever the payload's order.
    assert list(entries[0].detail["changes"]) == ["cellPhone", "email"]
    assert list(entries[0].detail["changes"]["email"]) == ["emergency", "priority"]
