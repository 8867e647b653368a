"""What the tests of editing one person's or one household's preferences share: the `family`
fixture, edits through the service, a channel as the view shows it, and a wait for an edit to
wait on a row lock (PostgreSQL)."""

import threading
from typing import Any

import pytest
from sqlalchemy import text

from shared.core.db import SessionFactory
from shared.core.vocabulary import REASONS
from shared.people.edit import edit_household_preferences, edit_person_preferences
from shared.people.view import person_preferences
from tests.support.district import District
from tests.support.driver import as_json, household_edit, person_edit


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
        edit_person_preferences(session, ext_id, person_edit(payload), username="clerk")


def edit_household(factory: SessionFactory, ext_id: str, payload: Any) -> None:
    with factory.begin() as session:
        edit_household_preferences(session, ext_id, household_edit(payload), username="clerk")


def person_channel(factory: SessionFactory, ext_id: str, channel: str) -> dict[str, Any]:
    with factory() as session:
        view: dict[str, Any] = as_json(person_preferences(session, ext_id))["channels"][channel]
        return view


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
