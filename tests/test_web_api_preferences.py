"""The JSON API's preferences: a person's, as the view shows them, and the district's export,
streamed as CSV."""

from sqlalchemy import insert

from shared.core.db import SessionFactory
from shared.core.vocabulary import CHANNELS, SETTER_GUARDIAN, mask_of
from shared.models import Household, HouseholdMember, Person, preferences
from shared.people.export import iter_preferences_csv
from shared.people.view import person_preferences
from tests.support.driver import as_json
from tests.support.web import error_of
from tests.support.web_api import Api
from tests.support.web_api import api as api  # the fixture, for pytest to find here


def add_family(factory: SessionFactory) -> None:
    with factory.begin() as session:
        mother = Person(ext_id="P-1", first_name="Ana", last_name="Lima", email="ana@example.org")
        home = Household(ext_id="H-1", name="Lima", phone="555-0100")
        session.add_all([mother, home])
        session.flush()
        session.add(HouseholdMember(household_id=home.id, person_id=mother.id, start_date=None))
        session.execute(
            insert(preferences).values(subject_id=home.id, channel=0, mask=mask_of(["emergency"]))
        )
        session.execute(
            insert(preferences).values(
                subject_id=mother.id,
                channel=CHANNELS.index("email"),
                mask=mask_of(["emergency", "priority"]),
                setter_priority=SETTER_GUARDIAN,
            )
        )


def test_a_person_s_preferences(api: Api, session_factory: SessionFactory):
    add_family(session_factory)
    response = api.get("/api/v1/people/P-1/preferences")
    assert response.status_code == 200
    body = response.get_json()
    with session_factory() as session:
        assert body == as_json(person_preferences(session, "P-1"))
    assert body["channels"]["email"]["address"] == "ana@example.org"
    assert body["channels"]["email"]["values"]["priority"] is True
    assert body["channels"]["email"]["setters"]["priority"] == "guardian"
    assert [h["householdId"] for h in body["households"]] == ["H-1"]

    missing = api.get("/api/v1/people/P-9/preferences")
    assert (missing.status_code, error_of(missing)) == (
        404,
        {"code": "not_found", "message": "no person 'P-9'", "field": None},
    )


def test_the_preference_export_is_streamed_csv(api: Api, session_factory: SessionFactory):
    add_family(session_factory)
    response = api.get("/api/v1/preferences.csv")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.is_streamed is True
    assert response.get_data(as_text=True) == (
        "subjectType,subjectId,channel,address,emergency,attendance,behavior,staff,general,"
        "foodService,priority,teacher,guardianSet\r\n"
        "household,H-1,householdPhone,555-0100,1,0,0,0,0,0,0,0,\r\n"
        "person,P-1,email,ana@example.org,1,0,0,0,0,0,1,0,priority\r\n"
    )
    with session_factory() as session:
        assert response.get_data(as_text=True) == "".join(iter_preferences_csv(session))
