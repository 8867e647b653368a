"""The person page in a real browser (headless Chromium): find a person, change a value with
the form, and see the new value with the setter "guardian"."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

from shared.core.db import SessionFactory
from shared.models import Person
from shared.people.view import person_preferences
from tests.support.browser import browser_page, serving, sign_in
from tests.support.district import District
from tests.support.driver import as_json
from tests.support.web import PASSWORD, add_user, make_app

pytestmark = pytest.mark.browser


def add_family(session: Session) -> None:
    d = District(session)
    ana = Person(ext_id="P-1", first_name="Ana", last_name="Lima", email="ana@example.org")
    session.add_all([ana, Person(ext_id="P-2", first_name="Bruno", last_name="Lima")])
    session.flush()
    d.member(d.household("H-1", phone="555-0100"), ana)
    d.prefer(ana, "email", ["emergency"])
    d.finish()


@pytest.fixture
def base_url(sqlite_session_factory: SessionFactory, tmp_path: Path) -> Iterator[str]:
    add_user(sqlite_session_factory, "admin", "district_admin")
    with sqlite_session_factory.begin() as session:
        add_family(session)
    with serving(make_app(sqlite_session_factory, tmp_path)) as url:
        yield url


@pytest.fixture
def page(base_url: str) -> Iterator[Any]:
    with browser_page(base_url) as opened:
        yield opened


def test_find_a_person_and_change_a_value(page: Any, sqlite_session_factory: SessionFactory):
    page.goto("/people")
    sign_in(page, "admin", PASSWORD)
    page.wait_for_url("**/people")

    page.get_by_label("Person id or name").fill("lima")
    page.get_by_role("button", name="Search").click()
    assert page.locator("#people tbody tr").all_inner_texts() == [
        "P-1\tAna Lima",
        "P-2\tBruno Lima",
    ]
    page.get_by_role("link", name="P-1").click()
    page.wait_for_url("**/people/P-1")
    assert page.get_by_role("heading", level=1).inner_text() == "Ana Lima (P-1)"

    general = page.locator("#channels tbody tr").nth(3).locator("td").nth(5)
    assert (general.locator(".value").inner_text(), general.locator(".setter").inner_text()) == (
        "Off",
        "import",
    )
    page.get_by_label("Email: General", exact=True).select_option(label="On")
    form = page.locator("#person-form")
    form.get_by_label("Set by").select_option(label="Guardian")
    form.get_by_role("button", name="Save", exact=True).click()

    page.wait_for_url("**/people/P-1")
    assert page.get_by_role("status").inner_text() == "Saved"
    assert (general.locator(".value").inner_text(), general.locator(".setter").inner_text()) == (
        "On",
        "guardian",
    )
    assert page.get_by_label("Email: General", exact=True).input_value() == "noChange"
    with sqlite_session_factory() as session:
        email = as_json(person_preferences(session, "P-1"))["channels"]["email"]
    assert (email["values"]["general"], email["setters"]["general"]) == (True, "guardian")
