"""A small district for the Reach tests, where each student's guardians, their addresses and
their reasons are known, and the figures Reach must give for it as of AS_OF."""

from datetime import date
from typing import Any

from shared.core.db import SessionFactory
from shared.core.vocabulary import REASONS
from shared.people.reachability import Unreached
from tests.support.district import District
from tests.support.web import add_user

AS_OF = date(2025, 10, 15)
ENDED = date(2025, 9, 1)


def make_district(session_factory: SessionFactory) -> SessionFactory:
    """Alpha: a1 (a guardian with a home phone for emergency, an e-mail for attendance), a2 (a
    guardian whose household phone has both; a relative who is no messenger contact has an
    e-mail with everything on), a3 (a guardian with emergency on a cell phone but no cell
    phone number, an ended member of a2's household; an ended link to a1's guardian), a4 (also
    at Beta: a guardian with a secondary e-mail for emergency). Beta: b1 (enrollment ended),
    b2 (last year's calendar only), b3 (their own messenger contact: e-mail for emergency and
    general)."""
    with session_factory.begin() as session:
        d = District(session)
        alpha, beta = d.school("A"), d.school("B")
        alpha.name, beta.name = "Alpha", "Beta"
        ca, cb = d.calendar("CA", alpha), d.calendar("CB", beta)
        old = d.calendar("CB-old", beta, "2024-25", date(2024, 8, 19), date(2025, 6, 4))
        a1, a2, a3, a4 = (d.person(f"a{n}") for n in range(1, 5))
        b1, b2 = d.person("b1"), d.person("b2")
        b3 = d.person("b3", email="b3@example.org")
        ga1 = d.person("ga1", home_phone="555-0101", email="ga1@example.org")
        ga2 = d.person("ga2", email="ga2@example.org")
        gr2 = d.person("gr2", email="gr2@example.org")
        ga3 = d.person("ga3")
        ga4 = d.person("ga4", secondary_email="ga4@example.org")
        household = d.household("H", phone="555-0200")
        for student, grade in ((a1, "01"), (a2, "02"), (a3, "03"), (a4, "04")):
            d.enroll(student, ca, grade)
        d.enroll(a4, cb, "04")
        d.enroll(b1, cb, "05", end=date(2025, 9, 30))
        d.enroll(b2, old, "05")
        d.enroll(b3, cb, "05")
        d.relate(a1, ga1)
        d.relate(a2, ga2)
        d.relate(a2, gr2, messenger=False)
        d.relate(a3, ga3)
        d.relate(a3, ga1, end=ENDED)
        d.relate(a4, ga4)
        d.relate(b1, ga1)
        d.relate(b2, ga1)
        d.relate(b3, b3)
        d.member(household, ga2)
        d.member(household, ga3, end=ENDED)
        d.prefer(ga1, "homePhone", ["emergency"])
        d.prefer(ga1, "email", ["attendance"])
        d.prefer(household, "householdPhone", ["emergency", "attendance"])
        d.prefer(gr2, "email", list(REASONS))
        d.prefer(ga3, "cellPhone", ["emergency"])
        d.prefer(ga4, "secondaryEmail", ["emergency"])
        d.prefer(b3, "email", ["emergency", "general"])
        d.finish()
    return session_factory


def reasons(**given: tuple[int, int, int]) -> dict[str, Any]:
    """Every reason at 0/0/0 but those given as (phone, email, either)."""
    figures = {reason: given.get(reason, (0, 0, 0)) for reason in REASONS}
    return {
        reason: {"phone": phone, "email": email, "either": either}
        for reason, (phone, email, either) in figures.items()
    }


ALPHA = {
    "schoolId": "A",
    "name": "Alpha",
    "students": 4,
    "reasons": reasons(emergency=(2, 1, 3), attendance=(1, 1, 2)),
}
BETA = {
    "schoolId": "B",
    "name": "Beta",
    "students": 2,
    "reasons": reasons(emergency=(0, 2, 2), general=(0, 1, 1)),
}


def add_users(district: SessionFactory) -> None:
    """A district admin, a school admin of Beta, and a viewer."""
    add_user(district, "admin", "district_admin")
    add_user(district, "beta", "school_admin", schools=["B"])
    add_user(district, "vera", "viewer")


def row(person: str, school: str, grade: str) -> Unreached:
    """A student nobody reaches, as `unreached` gives them."""
    return Unreached(person, "F", f"L{person}", school, {"A": "Alpha", "B": "Beta"}[school], grade)
