"""Editing one person's or one household's preferences on SQLite and
PostgreSQL: the values and setters written, the refusals (which write nothing), the audit entry,
a batch keeping a guardian's edit, and an edit waiting for a batch chunk's row lock."""

import threading
from typing import Any

import pytest
from sqlalchemy import delete, select, text

from shared.core.db import SessionFactory
from shared.core.errors import InvalidRequest, NotFound
from shared.core.vocabulary import CHANNELS, REASONS
from shared.models import AuditEntry, preferences
from shared.models.preferences import SETTER_COLUMNS
from shared.people.edit import edit_household_preferences, edit_person_preferences
from shared.people.view import household_preferences, person_preferences
from tests.support.district import District
from tests.support.driver import as_json, edit_request, run_batch

EMAIL = CHANNELS.index("email")


def reasons(on: tuple[str, ...] = (), **setters: str) -> dict[str, dict[str, Any]]:
    """The `values` and `setters` of a view: reasons `on` are on; setters default to import."""
    return {
        "values": {reason: reason in on for reason in REASONS},
        "setters": {reason: setters.get(reason, "import") for reason in REASONS},
    }


@pytest.fixture
def family(session_factory: SessionFactory) -> SessionFactory:
    """P-1 has an email (emergency and priority on, priority set by a guardian) and a cell
    phone (all off, set by default); P-2 has an empty cell phone; H-1 has a phone (emergency
    on), H-2 none. A student of P-1's makes P-1 a messenger contact."""
    with session_factory.begin() as session:
        d = District(session)
        calendar = d.calendar("CAL-1", d.school("A"))
        student = d.person("S-1")
        d.enroll(student, calendar)
        mother = d.person("P-1", email="ana@example.org", cell_phone="555-0101")
        d.relate(student, mother)
        d.person("P-2", cell_phone="")
        home = d.household("H-1", phone="555-0100")
        d.household("H-2")
        d.member(home, mother)
        d.prefer(mother, "email", ["emergency", "priority"], guardian=("priority",))
        d.prefer(home, "householdPhone", ["emergency"])
        d.finish()
    return session_factory


def edit_person(factory: SessionFactory, ext_id: str, payload: Any) -> None:
    with factory.begin() as session:
        edit_person_preferences(session, ext_id, edit_request(payload), username="clerk")


def edit_household(factory: SessionFactory, ext_id: str, payload: Any) -> None:
    with factory.begin() as session:
        edit_household_preferences(session, ext_id, edit_request(payload), username="clerk")


def person_channel(factory: SessionFactory, ext_id: str, channel: str) -> dict[str, Any]:
    with factory() as session:
        view: dict[str, Any] = as_json(person_preferences(session, ext_id))["channels"][channel]
        return view


def snapshot(factory: SessionFactory) -> tuple[list[tuple[Any, ...]], int]:
    """Every preference row, and how many audit entries there are."""
    with factory() as session:
        rows = session.execute(select(preferences).order_by(*preferences.primary_key)).all()
        audits = len(session.scalars(select(AuditEntry.id)).all())
        return [tuple(row) for row in rows], audits


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
            edit_person_preferences(session, person, edit_request(payload), username="clerk")
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
            edit_household_preferences(session, household, edit_request(payload), username="clerk")
    assert (caught.value.message, caught.value.field) == (message, field)
    assert snapshot(family) == before


def test_unknown_subjects_are_not_found(family: SessionFactory):
    payload = {"setBy": "guardian", "changes": ON}
    with pytest.raises(NotFound, match=r"^no person 'P-9'$"):
        edit_person(family, "P-9", payload)
    household_payload = {"setBy": "guardian", "changes": {"householdPhone": {"emergency": "on"}}}
    with pytest.raises(NotFound, match=r"^no household 'H-9'$"):
        edit_household(family, "H-9", household_payload)


def test_a_batch_keeping_guardian_choices_keeps_the_edit(family: SessionFactory):
    # The guardian confirms emergency on (already on) and turns general on.
    changes = {"email": {"emergency": "on", "general": "on"}}
    edit_person(family, "P-1", {"setBy": "guardian", "changes": changes})
    off = {"email": {"emergency": "off", "attendance": "on", "general": "off"}}

    kept = run_batch(
        family,
        {
            "mode": "studentContact",
            "scope": {"calendarId": "CAL-1"},
            "changes": off,
            "keepGuardianChoices": True,
        },
    )

    assert kept["status"] == "succeeded"
    assert kept["result"]["counts"]["email"] == {
        **dict.fromkeys(REASONS),
        "emergency": 0,
        "attendance": 1,
        "general": 0,
    }
    assert kept["result"]["kept"]["email"] == {
        **dict.fromkeys(REASONS),
        "emergency": 1,
        "attendance": 0,
        "general": 1,
    }
    batch = f"batch:{kept['id']}"
    assert person_channel(family, "P-1", "email") == {
        "address": "ana@example.org",
        **reasons(
            ("emergency", "attendance", "general", "priority"),
            emergency="guardian",
            attendance=batch,
            general="guardian",
            priority="guardian",
        ),
    }


@pytest.mark.postgres
def test_an_edit_waits_for_a_chunk_s_row_lock_and_applies_on_top(
    pg_session_factory: SessionFactory,
):
    """A batch chunk holds the email row (it turned attendance on, not committed yet); the edit
    waits for it, then changes only its own reasons of what the chunk committed."""
    with pg_session_factory.begin() as session:
        d = District(session)
        d.prefer(d.person("P-1", email="ana@example.org"), "email", ["emergency"])
        d.finish()
    chunk = pg_session_factory()
    chunk.begin()
    chunk.execute(text("UPDATE preferences SET mask = mask | 2, setter_attendance = 7"))
    failures: list[BaseException] = []

    def edit() -> None:
        try:
            payload = {"setBy": "guardian", "changes": {"email": {"emergency": "off"}}}
            edit_person(pg_session_factory, "P-1", payload)
        except BaseException as error:  # reported by the test below
            failures.append(error)

    editor = threading.Thread(target=edit)
    editor.start()
    try:
        wait_for_a_lock_wait(pg_session_factory)
    finally:
        chunk.commit()
        chunk.close()
        editor.join(timeout=30)
    assert failures == []
    assert person_channel(pg_session_factory, "P-1", "email") == {
        "address": "ana@example.org",
        **reasons(("attendance",), emergency="guardian", attendance="batch:7"),
    }


def wait_for_a_lock_wait(factory: SessionFactory, seconds: float = 10) -> None:
    """Returns once some other backend of this database waits for a lock."""
    query = text(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
        "AND wait_event_type = 'Lock'"
    )
    with factory() as session:
        for _ in range(int(seconds / 0.05)):
            if session.scalar(query):
                return
            session.rollback()  # a fresh snapshot of pg_stat_activity
            threading.Event().wait(0.05)
    raise AssertionError("the edit never waited for the row lock")
