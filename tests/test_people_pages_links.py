"""Who a person is, on their page: roles today, enrollments and staff assignments by school
name, the students they are a contact of or their own contacts, the other members of their
households; and a staff member's edit is set by "staff" unless they choose otherwise."""

import re
from datetime import date, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient

from shared.core.db import SessionFactory
from tests.support.district import District
from tests.support.web import Page, add_user, log_in


@pytest.fixture
def app(session_factory: SessionFactory, app: Flask) -> Flask:
    """Sam Stone (s1), a student today, lives with Gail Stone (g1), his mother, a teacher at
    North; his link to Olga Old (g2) ended on 2025-01-01."""
    add_user(session_factory, "admin", "district_admin")
    today = date.today()
    with session_factory.begin() as session:
        d = District(session)
        north = d.school("N")
        calendar = d.calendar(
            "C1", north, "this year", today - timedelta(30), today + timedelta(200)
        )
        sam, gail, olga = d.person("s1"), d.person("g1"), d.person("g2")
        sam.first_name, sam.last_name = "Sam", "Stone"
        gail.first_name, gail.last_name = "Gail", "Stone"
        olga.first_name, olga.last_name = "Olga", "Old"
        d.enroll(sam, calendar, "03")
        d.relate(sam, gail)
        d.relate(sam, olga, end=date(2025, 1, 1))
        d.assign(gail, north, start=date(2024, 8, 1))
        home = d.household("H", phone="555-0100")
        d.member(home, sam)
        d.member(home, gail)
        d.finish()
    return app


def items(html: str, list_id: str) -> list[str]:
    found = re.search(rf'<ul id="{list_id}">(.*?)</ul>', html, re.S)
    assert found is not None, list_id
    return [
        " ".join(re.sub(r"<[^>]+>", "", li).split())
        for li in re.findall(r"<li>(.*?)</li>", found.group(1), re.S)
    ]


def test_a_contact_and_staff_member_s_page(client: FlaskClient):
    log_in(client)
    html = client.get("/people/g1").get_data(as_text=True)
    assert '<p id="roles">Today: Staff, Messenger contact.</p>' in html
    assert items(html, "assignments") == ["School N: Teacher, since 2024-08-01"]
    assert items(html, "students") == ["Sam Stone (s1): Mother (guardian, messenger)"]
    assert items(html, "household-1-members") == ["Sam Stone (s1): member"]
    assert 'id="enrollments"' not in html and 'id="contacts"' not in html
    assert Page(html).selected("setBy") == "staff"


def test_a_student_s_page(client: FlaskClient):
    log_in(client)
    html = client.get("/people/s1").get_data(as_text=True)
    assert '<p id="roles">Today: Student.</p>' in html
    assert items(html, "enrollments") == ["School N: grade 03, calendar C1"]
    assert items(html, "contacts") == [
        "Olga Old (g2): Mother (guardian, messenger), until 2025-01-01",
        "Gail Stone (g1): Mother (guardian, messenger)",
    ]
    assert items(html, "household-1-members") == ["Gail Stone (g1): member"]
