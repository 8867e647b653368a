"""What the tests of undo, cancel and previews through the service layer share: their district (the
`district` fixture: school A, students s1 to s3, their contacts g1 and g2, household h1), the
studentContact batch they run, and the export, setters and values they read back."""

import pytest

from shared.core.db import SessionFactory
from shared.people.export import iter_preferences_csv
from shared.people.view import person_preferences
from tests.support.district import District
from tests.support.driver import as_json

SCOPE = {"schoolYear": "2025-26", "schoolId": "A"}
CHANGES = {
    "householdPhone": {"emergency": "on"},
    "cellPhone": {"general": "on"},
    "email": {"emergency": "on", "attendance": "off"},
}
BATCH = {"mode": "studentContact", "scope": SCOPE, "changes": CHANGES}


@pytest.fixture
def district(session_factory: SessionFactory) -> SessionFactory:
    with session_factory.begin() as session:
        d = District(session)
        a = d.school("A")
        cal = d.calendar("CAL-A", a)
        s1 = d.person("s1", cell_phone="1", email="s1@x")
        s2 = d.person("s2", cell_phone="2")
        s3 = d.person("s3", email="s3@x")
        for student in (s1, s2, s3):
            d.enroll(student, cal)
        g1 = d.person("g1", email="g1@x", cell_phone="91")
        g2 = d.person("g2", email="g2@x")
        d.relate(s1, g1)
        d.relate(s2, g1)
        d.relate(s3, g2)
        h1 = d.household("h1", phone="100")
        for member in (g1, s1, s2):
            d.member(h1, member)
        d.prefer(g1, "email", on=["attendance"], guardian=("attendance",))
        d.prefer(s1, "cellPhone", on=["emergency"])
        d.finish()
    return session_factory


def export(factory: SessionFactory) -> str:
    with factory() as session:
        return "".join(iter_preferences_csv(session))


def setters(factory: SessionFactory, person: str, channel: str) -> dict[str, str]:
    with factory() as session:
        setters: dict[str, str] = as_json(person_preferences(session, person))["channels"][channel][
            "setters"
        ]
        return setters


def values(factory: SessionFactory, person: str, channel: str) -> dict[str, bool]:
    with factory() as session:
        view = as_json(person_preferences(session, person))
        found: dict[str, bool] = view["channels"][channel]["values"]
        return found
