"""Whom a batch reached and skipped, and its progress in people: `result.reached`,
`result.skipped` and `progress.people`, on a district where each target's addresses are known.
On SQLite and PostgreSQL."""

from datetime import date
from typing import Any

import pytest

from shared.core.db import SessionFactory
from tests.support.district import District
from tests.support.driver import run_batch, run_undo

ENDED = date(2025, 9, 1)  # before the batches' date, 2025-10-15


@pytest.fixture
def district(session_factory: SessionFactory) -> SessionFactory:
    """Four students in one calendar, chunks of two:
    - s1: an e-mail; an active member of h1 (a phone); contact g1 has a cell phone;
    - s2: no address; a member of h2 (no phone); contact g2 has no address;
    - s3: no address; an ended member of h1, an active member of h3 (a phone);
    - s4: a home phone, staff; an active member of h4 (a phone).
    """
    with session_factory.begin() as session:
        d = District(session)
        calendar = d.calendar("C", d.school("S"))
        s1 = d.person("s1", email="s1@example.org")
        s2 = d.person("s2")
        s3 = d.person("s3")
        s4 = d.person("s4", home_phone="555-0104")
        g1 = d.person("g1", cell_phone="555-0201")
        g2 = d.person("g2")
        h1, h2 = d.household("h1", phone="555-0301"), d.household("h2")
        h3, h4 = d.household("h3", phone="555-0303"), d.household("h4", phone="555-0304")
        for student in (s1, s2, s3, s4):
            d.enroll(student, calendar)
        d.member(h1, s1)
        d.member(h2, s2)
        d.member(h1, s3, end=ENDED)
        d.member(h3, s3)
        d.member(h4, s4)
        d.relate(s1, g1)
        d.relate(s2, g2)
        d.assign(s4)
        d.finish()
    return session_factory


def batch(changes: dict[str, Any], mode: str = "student", **more: Any) -> dict[str, Any]:
    return {"mode": mode, "scope": {"calendarId": "C"}, "changes": changes, **more}


def reach(view: dict[str, Any]) -> tuple[Any, Any, Any]:
    result = view["result"]
    return result["reached"], result["skipped"], view["progress"]


PEOPLE_4 = {"done": 2, "total": 2, "people": {"done": 4, "total": 4}}


@pytest.mark.parametrize(
    "changes, reached, skipped",
    [
        ({"email": {"general": "on"}}, {"people": 1, "households": 0}, 3),
        ({"householdPhone": {"emergency": "on"}}, {"people": 3, "households": 3}, 1),
        (
            {"householdPhone": {"staff": "on"}, "homePhone": {"emergency": "off"}},
            {"people": 3, "households": 1},
            1,
        ),
        (
            {"email": {"general": "on"}, "homePhone": {"general": "on"}},
            {"people": 2, "households": 0},
            2,
        ),
        ({"workPhone": {"general": "on"}}, {"people": 0, "households": 0}, 4),
    ],
    ids=["email", "household-phone", "household-staff-only", "two-channels", "nobody"],
)
def test_reached_and_skipped_count_addresses_on_the_channels_set(
    district: SessionFactory, changes: dict[str, Any], reached: dict[str, int], skipped: int
):
    view = run_batch(district, batch(changes))
    assert view["result"]["targets"] == 4
    assert reach(view) == (reached, {"noAddress": skipped}, PEOPLE_4)


def test_a_preview_reaches_as_applying_would_and_a_second_run_reaches_the_same(
    district: SessionFactory,
):
    changes = {"householdPhone": {"emergency": "on"}, "email": {"general": "on"}}
    expected = ({"people": 3, "households": 3}, {"noAddress": 1}, PEOPLE_4)
    assert reach(run_batch(district, batch(changes, dryRun=True))) == expected
    first = run_batch(district, batch(changes))
    assert reach(first) == expected
    again = run_batch(district, batch(changes))
    assert reach(again) == expected
    assert again["result"]["counts"]["email"]["general"] == 0  # reached, nothing changed


def test_contacts_are_reached_on_their_own_addresses(district: SessionFactory):
    view = run_batch(district, batch({"cellPhone": {"emergency": "on"}}, mode="studentContact"))
    assert view["result"]["targets"] == 2
    assert reach(view) == (
        {"people": 1, "households": 0},
        {"noAddress": 1},
        {"done": 1, "total": 1, "people": {"done": 2, "total": 2}},
    )


def test_an_undo_counts_its_people_and_has_no_reach(district: SessionFactory):
    first = run_batch(district, batch({"email": {"general": "on"}}))
    undo = run_undo(district, first["id"])
    assert undo["progress"] == PEOPLE_4
    assert "reached" not in undo["result"] and "skipped" not in undo["result"]
    assert undo["result"]["counts"]["email"]["general"] == 1


def test_a_batch_with_no_target_reaches_nobody(session_factory: SessionFactory):
    with session_factory.begin() as session:
        d = District(session)
        d.calendar("C", d.school("S"))
    view = run_batch(session_factory, batch({"email": {"general": "on"}}))
    assert reach(view) == (
        {"people": 0, "households": 0},
        {"noAddress": 0},
        {"done": 0, "total": 0, "people": {"done": 0, "total": 0}},
    )
